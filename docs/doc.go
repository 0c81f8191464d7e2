// Package docs holds the user's pages (api.md, configuration.md, production.md, deployment.md,
// clients.md, architecture.md, benchmarks.md) and no code. Its tests keep the pages honest: every
// relative link and anchor in the repository's Markdown resolves, and the configuration table
// lists exactly the environment variables that the code reads. `make test` runs them with the
// unit tests.
package docs

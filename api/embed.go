// Package api carries the HTTP contract, so the gateway can serve the exact document it validates
// against, and the API reference page that renders it.
package api

import "embed"

// OpenAPI is api/openapi.yaml as written.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Docs is the API reference page (/docs): docs/index.html and docs/docs.js, which are ours, and
// in docs/swagger-ui the Swagger UI files and licence texts, copied unchanged from the npm package
// that tools/apidocs pins (tools/apidocs/vendor.sh copies and checks them). Each file is named, so
// that a missing one fails the build.
//
//go:embed docs/index.html docs/docs.js
//go:embed docs/swagger-ui/swagger-ui-bundle.js docs/swagger-ui/swagger-ui.css
//go:embed docs/swagger-ui/swagger-ui-bundle.js.LICENSE.txt docs/swagger-ui/LICENSE docs/swagger-ui/NOTICE
var Docs embed.FS

# The two commands of README.md: `make run` starts the whole stack locally, `make test` runs every check.
.PHONY: run cluster cluster-test test cli npm generate check-generated lint lint-spec vendor-docs unit e2e deploy-check bench

GO ?= go

run:
	$(GO) run ./cmd/dev

# The production shape on this machine: PostgreSQL, Temporal's four services as four processes
# (built once from the pinned server module), two workers and two gateways. Ctrl-C stops it all.
cluster:
	$(GO) run ./cmd/dev cluster

# The cluster's tests: its smoke test (up from an empty binary cache, cold, then warm), then the
# suite on one more cluster: every sample through both gateways, a gateway and a worker killed,
# history and PostgreSQL killed and restarted, visibility on PostgreSQL; then the benchmark's
# smoke test on the cluster (`bench -cluster`, tiny counts). Part of `make test`; it needs
# PostgreSQL's binaries (Debian's postgresql).
cluster-test:
	CLUSTER_TEST=1 $(GO) test -count=1 -v -timeout 45m -run '^TestCluster' ./internal/cluster/
	CLUSTER_TEST=1 $(GO) test -count=1 -v -timeout 20m -run TestClusterBenchSmoke ./cmd/bench/

# Find or build (once, into the user cache) the pinned Temporal CLI that the end-to-end tests run.
cli:
	@$(GO) run ./cmd/dev cli > /dev/null

# The npm packages, at the exact versions of their lockfiles: the spec linter and Swagger UI
# (tools/apidocs) and the TypeScript client's generator and compiler (clients/typescript).
npm:
	cd tools/apidocs && npm ci --no-audit --no-fund
	cd clients/typescript && npm ci --no-audit --no-fund

# Everything generated from api/openapi.yaml: the Go server and client, and the TypeScript types.
generate: npm
	$(GO) generate ./...
	cd clients/typescript && npm run --silent generate

GENERATED = internal/gen internal/model internal/handlers/typed.gen.go client clients/typescript/src/schema.ts

# Regenerate and fail when the committed generated code differs from what the spec produces.
check-generated: generate
	@git diff --exit-code -- $(GENERATED) || { echo "generated code is stale: run 'make generate' and commit it"; exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { echo "untracked or uncommitted generated files"; exit 1; }

# Copy Swagger UI, which /docs serves, from the pinned npm package into api/docs/swagger-ui.
vendor-docs: npm
	tools/apidocs/vendor.sh

# The spec through an independent linter (Redocly, rules in redocly.yaml), and the vendored
# Swagger UI against its pinned package. REDOCLY_TELEMETRY=off: the linter phones home otherwise.
lint-spec: npm
	cd tools/apidocs && REDOCLY_TELEMETRY=off ./node_modules/.bin/redocly lint --config ../../redocly.yaml ../../api/openapi.yaml
	tools/apidocs/vendor.sh --check

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool workflowcheck ./internal/temporal/...
	shellcheck examples/curl/*.sh tools/apidocs/vendor.sh

# The Dockerfile and docker-compose.yml, checked without a Docker engine (also part of unit).
deploy-check:
	$(GO) test -count=1 -v ./deploy/

# The benchmark's smoke test needs the dev server: e2e runs it; the cluster's, and the benchmark's on
# the cluster, cluster-test.
unit:
	$(GO) test -race -count=1 -skip 'TestBenchSmoke|^TestCluster' $$($(GO) list ./... | grep -v /internal/e2e)

# -v so that the log shows the end-to-end tests running against the real dev server.
e2e: cli npm
	TEMPORAL_CLI="$$($(GO) run ./cmd/dev cli)" $(GO) test -count=1 -v ./internal/e2e/
	TEMPORAL_CLI="$$($(GO) run ./cmd/dev cli)" $(GO) test -count=1 -v -run TestBenchSmoke ./cmd/bench/

# The benchmark of docs/benchmarks.md: the gateway against the Go SDK and Temporal's HTTP API, with
# its own dev server, worker and gateway. Run it on a quiet machine; it takes about 5 minutes.
bench: cli
	TEMPORAL_CLI="$$($(GO) run ./cmd/dev cli)" $(GO) run ./cmd/bench

test: check-generated lint lint-spec unit e2e cluster-test

# The two commands of README.md: `make run` starts the whole stack locally, `make test` runs every check.
.PHONY: run test cli generate check-generated lint unit e2e

GO ?= go

run:
	$(GO) run ./cmd/dev

# Find or build (once, into the user cache) the pinned Temporal CLI that the end-to-end tests run.
cli:
	@$(GO) run ./cmd/dev cli > /dev/null

generate:
	$(GO) generate ./...

# Regenerate and fail when the committed generated code differs from what the spec produces.
check-generated: generate
	@git diff --exit-code -- internal/gen client || { echo "internal/gen or client is stale: run 'make generate' and commit it"; exit 1; }
	@test -z "$$(git status --porcelain -- internal/gen client)" || { echo "untracked or uncommitted files in internal/gen or client"; exit 1; }

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool workflowcheck ./internal/temporal/...

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /internal/e2e)

# -v so that the log shows the end-to-end tests running against the real dev server.
e2e: cli
	TEMPORAL_CLI="$$($(GO) run ./cmd/dev cli)" $(GO) test -count=1 -v ./internal/e2e/

test: check-generated lint unit e2e

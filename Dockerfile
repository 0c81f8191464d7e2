# The two deployables as container images, one build target each:
#
#   docker build --target gateway -t temporalhttp/gateway:0.1.0 .
#   docker build --target worker  -t temporalhttp/worker:0.1.0 .
#
# docker-compose.yml builds both. deploy/dockerfile_test.go checks this file, and
# deploy/static_test.go runs its `go build` line and proves the binaries are static.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# Builders behind a module proxy, or with a private checksum database, pass their own settings
# (--build-arg GOPROXY=...). Nothing here names a host: left empty, the Go defaults apply.
ARG GOPROXY
ARG GONOSUMDB
ARG GOFLAGS
# The modules are their own layer, rebuilt only when go.mod or go.sum change. The context holds
# only what the build reads (.dockerignore), so no .env or key file ever enters an image.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# No cgo: the binaries need no libc, so they run on an empty image. timetzdata embeds the zone
# database, which a cronSchedule's CRON_TZ= prefix needs and scratch does not have. -trimpath
# keeps this machine's paths out of the binaries, -s -w their symbol tables.
ENV CGO_ENABLED=0
RUN go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/ ./cmd/server ./cmd/worker
# The worker image's directory for the sample ledger (WORKER_BANK_FILE), made here because the
# runtime image has no shell to make it.
RUN mkdir /out/ledger

# Both images: nothing but the binary and the CA bundle, which TLS to Temporal Cloud (or to an
# OTLP endpoint over https) verifies servers against. No shell, no package manager, no root.
FROM scratch AS runtime
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
USER 65532:65532

FROM runtime AS gateway
COPY --from=build /out/server /server
# In a container the gateway must listen beyond loopback, so it refuses to start until it has
# credentials (GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE or a JWT key); see docs/production.md, Authentication.
ENV GATEWAY_HTTP_ADDR=:8080
EXPOSE 8080
# `server healthcheck` asks /readyz on GATEWAY_HTTP_ADDR: healthy means it can serve the API,
# Temporal included. Use `server healthcheck /healthz` where unhealthy containers get restarted.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["/server", "healthcheck"]
ENTRYPOINT ["/server"]

FROM runtime AS worker
COPY --from=build /out/worker /worker
# Owned by the worker's user: a named volume mounted here starts with this owner, so that every
# replica can write the one ledger file they share (docker-compose.yml).
COPY --from=build --chown=65532:65532 /out/ledger /var/lib/temporalhttp
# The worker serves /metrics, /healthz and /readyz here; the port is not published by default.
ENV WORKER_METRICS_ADDR=:9090
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["/worker", "healthcheck"]
ENTRYPOINT ["/worker"]

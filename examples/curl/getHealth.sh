#!/bin/sh
# operationId: getHealth (GET /healthz)
# Liveness: {"status":"ok"} while the gateway process runs. Needs no credentials.
# Usage: getHealth.sh
# Environment: GATEWAY_URL (default http://127.0.0.1:8080).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
curl -sS --fail-with-body "$url/healthz"

#!/bin/sh
# operationId: getMetrics (GET /metrics)
# The gateway's Prometheus metrics, in the text exposition format. Needs no credentials.
# Usage: getMetrics.sh
# Environment: GATEWAY_URL (default http://127.0.0.1:8080).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
curl -sS --fail-with-body "$url/metrics"

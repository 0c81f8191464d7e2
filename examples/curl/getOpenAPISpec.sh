#!/bin/sh
# operationId: getOpenAPISpec (GET /openapi.yaml)
# The OpenAPI contract this gateway serves and validates requests against. Needs no credentials.
# Usage: getOpenAPISpec.sh > openapi.yaml
# Environment: GATEWAY_URL (default http://127.0.0.1:8080).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
curl -sS --fail-with-body "$url/openapi.yaml"

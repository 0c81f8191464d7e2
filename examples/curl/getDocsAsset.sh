#!/bin/sh
# operationId: getDocsAsset (GET /docs/{asset})
# A file that the /docs page loads: swagger-ui-bundle.js, swagger-ui.css, docs.js, or a licence
# text. Needs no credentials.
# Usage: getDocsAsset.sh [asset]
#   default: docs.js.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
asset=${1:-docs.js}
curl -sS --fail-with-body "$url/docs/$asset"

#!/bin/sh
# operationId: getDocs (GET /docs)
# The API reference page (HTML); open the URL in a browser rather than curl it, it works offline.
# Needs no credentials.
# Usage: getDocs.sh > docs.html
# Environment: GATEWAY_URL (default http://127.0.0.1:8080).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
curl -sS --fail-with-body "$url/docs"

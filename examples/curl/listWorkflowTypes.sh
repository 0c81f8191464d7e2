#!/bin/sh
# operationId: listWorkflowTypes (GET /workflow-types)
# The workflow types this deployment's workers host, each with a description. Scope read.
# Usage: listWorkflowTypes.sh
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} "$url/workflow-types"

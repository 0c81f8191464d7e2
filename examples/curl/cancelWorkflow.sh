#!/bin/sh
# operationId: cancelWorkflow (POST /workflows/{workflowId}/cancel)
# Asks a running execution to cancel; 202 (and no output), then the workflow winds down and
# closes as CANCELED. Scope admin.
# Usage: cancelWorkflow.sh [workflowId] [reason]
#   defaults: po-7 'canceled from curl'.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-po-7}
reason=${2:-canceled from curl}

# json_string quotes $1 as a JSON string.
json_string() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "{\"reason\":$(json_string "$reason")}" \
	"$url/workflows/$id/cancel"

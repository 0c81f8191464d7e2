#!/bin/sh
# operationId: terminateWorkflow (POST /workflows/{workflowId}/terminate)
# Ends a running execution at once as TERMINATED, running no workflow code; the reason becomes
# its failure message. 202 and no output. Scope admin.
# Usage: terminateWorkflow.sh [workflowId] [reason]
#   defaults: po-7 'terminated from curl'.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-po-7}
reason=${2:-terminated from curl}

# json_string quotes $1 as a JSON string.
json_string() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "{\"reason\":$(json_string "$reason")}" \
	"$url/workflows/$id/terminate"

#!/bin/sh
# operationId: updateWorkflow (POST /workflows/{workflowId}/updates/{updateName})
# Runs an update on a running execution and prints {"updateId":...,"result":...} once it has
# completed; an update the workflow rejects answers 422. Scope start.
# Usage: updateWorkflow.sh [workflowId] [updateName] [input]
#   defaults: po-7 approve '{"comment":"approved by phone"}' (the Approval sample).
#   input is any JSON value.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-po-7}
update=${2:-approve}
input=${3:-'{"comment":"approved by phone"}'}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "{\"input\":$input}" \
	"$url/workflows/$id/updates/$update"

#!/bin/sh
# operationId: getWorkflow (GET /workflows/{workflowId})
# Reads an execution (its latest run): status, and result or failure once closed. With wait, the
# answer comes when the execution closes or that long passes, whichever is first. Scope read.
# Usage: getWorkflow.sh [workflowId] [wait]
#   defaults: greet-ada, no wait. wait is a duration such as 30s.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-ada}
wait=${2:-}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	"$url/workflows/$id${wait:+?wait=$wait}"

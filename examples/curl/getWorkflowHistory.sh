#!/bin/sh
# operationId: getWorkflowHistory (GET /workflows/{workflowId}/history)
# One page of an execution's history events, in Temporal's JSON form. Scope read.
# Usage: getWorkflowHistory.sh [workflowId] [pageSize] [pageToken]
#   defaults: greet-ada, 100. Pass a page's nextPageToken as pageToken for the next page.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-ada}
size=${2:-100}
token=${3:-}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} -G \
	--data-urlencode "pageSize=$size" \
	${token:+--data-urlencode "pageToken=$token"} \
	"$url/workflows/$id/history"

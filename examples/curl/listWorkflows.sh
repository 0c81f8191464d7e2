#!/bin/sh
# operationId: listWorkflows (GET /workflows)
# Lists executions, newest first. Scope read.
# Usage: listWorkflows.sh [status] [workflowType] [pageSize] [pageToken] [scheduleId]
#   status: RUNNING, COMPLETED, FAILED, ...; an empty argument does not filter. pageSize: 20.
#   Pass a page's nextPageToken as pageToken for the next page. scheduleId keeps the executions
#   that schedule started.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
status=${1:-}
type=${2:-}
size=${3:-20}
token=${4:-}
schedule=${5:-}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} -G \
	--data-urlencode "pageSize=$size" \
	${status:+--data-urlencode "status=$status"} \
	${type:+--data-urlencode "workflowType=$type"} \
	${token:+--data-urlencode "pageToken=$token"} \
	${schedule:+--data-urlencode "scheduleId=$schedule"} \
	"$url/workflows"

#!/bin/sh
# operationId: listSchedules (GET /schedules)
# Lists schedules, a page at a time. Scope read.
# Usage: listSchedules.sh [pageSize] [pageToken]
#   pageSize: 20. Pass a page's nextPageToken as pageToken for the next page.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
size=${1:-20}
token=${2:-}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} -G \
	--data-urlencode "pageSize=$size" \
	${token:+--data-urlencode "pageToken=$token"} \
	"$url/schedules"

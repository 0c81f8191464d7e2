#!/bin/sh
# operationId: updateSchedule (PUT /schedules/{scheduleId})
# Replaces a schedule's spec and action, and prints the schedule as it now is. It sends the ETag
# of a read just before in If-Match, so that a change made meanwhile by someone else answers 412
# instead of being overwritten. Scope schedule.
# Usage: updateSchedule.sh [scheduleId] [spec] [workflowType] [input] [workflowId] [ifMatch]
#   defaults: greet-every-minute '{"intervals":[{"every":"1h","offset":"5m"}]}' Greeting
#   '{"name":"Grace"}' greet-scheduled, and the ETag of a read now. ifMatch '*' replaces whatever is there.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-every-minute}
spec=${2:-'{"intervals":[{"every":"1h","offset":"5m"}]}'}
type=${3:-Greeting}
input=${4:-'{"name":"Grace"}'}
wid=${5:-greet-scheduled}
etag=${6:-}

# json_string quotes $1 as a JSON string.
json_string() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

if [ -z "$etag" ]; then
	etag=$(curl -sS --fail ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} -o /dev/null -D - \
		"$url/schedules/$id" | sed -n 's/^[Ee][Tt][Aa][Gg]: *\([^[:space:]]*\).*/\1/p')
fi
body="{\"spec\":$spec,\"action\":{\"workflowType\":$(json_string "$type"),\"workflowId\":$(json_string "$wid"),\"input\":$input}}"
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} -X PUT \
	-H 'Content-Type: application/json' -H "If-Match: $etag" -d "$body" \
	"$url/schedules/$id"

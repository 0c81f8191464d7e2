#!/bin/sh
# operationId: createSchedule (POST /schedules)
# Creates a schedule whose action starts a hosted workflow type, and prints it; the answer's
# Location and ETag name it and its version. The input is checked as a start's is (422 when it
# does not fit). Scope schedule.
# Usage: createSchedule.sh [scheduleId] [spec] [workflowType] [input] [workflowId]
#   defaults: greet-every-minute '{"intervals":[{"every":"1m"}]}' Greeting '{"name":"Ada"}'
#   greet-scheduled. spec is a ScheduleSpec, such as '{"cronStrings":["0 9 * * MON-FRI"],"timeZone":"Europe/Berlin"}'.
#   Each run's workflow id is workflowId with the fire time appended.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-every-minute}
spec=${2:-'{"intervals":[{"every":"1m"}]}'}
type=${3:-Greeting}
input=${4:-'{"name":"Ada"}'}
wid=${5:-greet-scheduled}

# json_string quotes $1 as a JSON string.
json_string() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

body="{\"scheduleId\":$(json_string "$id"),\"spec\":$spec,\"action\":{\"workflowType\":$(json_string "$type"),\"workflowId\":$(json_string "$wid"),\"input\":$input}}"
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "$body" \
	"$url/schedules"

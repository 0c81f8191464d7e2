#!/bin/sh
# operationId: triggerSchedule (POST /schedules/{scheduleId}/trigger)
# Has a schedule take its action now, paused or not; 202 (and no output). Scope schedule.
# Usage: triggerSchedule.sh [scheduleId] [overlap]
#   defaults: greet-every-minute, the schedule's own overlap policy. overlap: SKIP, BUFFER_ONE,
#   BUFFER_ALL, CANCEL_OTHER, TERMINATE_OTHER or ALLOW_ALL.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-every-minute}
overlap=${2:-}
body='{}'
if [ -n "$overlap" ]; then
	body="{\"overlap\":\"$overlap\"}"
fi
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "$body" \
	"$url/schedules/$id/trigger"

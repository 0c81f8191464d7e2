#!/bin/sh
# operationId: unpauseSchedule (POST /schedules/{scheduleId}/unpause)
# Unpauses a schedule: it acts again from its next action time on. 204 (and no output).
# The note reads back as the schedule's state.note. Scope schedule.
# Usage: unpauseSchedule.sh [scheduleId] [note]
#   defaults: greet-every-minute 'unpaused from curl'.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-every-minute}
note=${2:-unpaused from curl}

# json_string quotes $1 as a JSON string.
json_string() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "{\"note\":$(json_string "$note")}" \
	"$url/schedules/$id/unpause"

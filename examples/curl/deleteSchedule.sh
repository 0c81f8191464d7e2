#!/bin/sh
# operationId: deleteSchedule (DELETE /schedules/{scheduleId})
# Deletes a schedule; 204 (and no output). The executions it started are left as they are.
# Scope schedule.
# Usage: deleteSchedule.sh [scheduleId]
#   default: greet-every-minute.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-every-minute}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} -X DELETE \
	"$url/schedules/$id"

#!/bin/sh
# operationId: backfillSchedule (POST /schedules/{scheduleId}/backfill)
# Has a schedule take the actions of each of its times from startAt to endAt, both included, as
# if it had run then; 202 (and no output). Scope schedule.
# Usage: backfillSchedule.sh scheduleId startAt endAt [overlap]
#   startAt and endAt are RFC 3339 times such as 2026-12-01T00:00:00Z. overlap: ALLOW_ALL (one
#   run per time, even while an earlier one runs), or SKIP, BUFFER_ONE, BUFFER_ALL, ...
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=$1
start=$2
end=$3
overlap=${4:-ALLOW_ALL}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' \
	-d "{\"startAt\":\"$start\",\"endAt\":\"$end\",\"overlap\":\"$overlap\"}" \
	"$url/schedules/$id/backfill"

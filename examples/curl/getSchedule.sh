#!/bin/sh
# operationId: getSchedule (GET /schedules/{scheduleId})
# Reads a schedule: its spec, action, policies and state, and in info its recent and next actions
# and running executions. The ETag header (curl -i shows it) is what updateSchedule.sh sends in
# If-Match. Scope read.
# Usage: getSchedule.sh [scheduleId]
#   default: greet-every-minute.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-every-minute}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	"$url/schedules/$id"

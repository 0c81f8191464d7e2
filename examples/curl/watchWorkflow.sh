#!/bin/sh
# operationId: watchWorkflow (GET /workflows/{workflowId}/events)
# Watches an execution live (Server-Sent Events): an `execution` event now and each time its
# status changes, heartbeat comments in between; the stream ends once the execution has closed.
# Scope read.
# Usage: watchWorkflow.sh [workflowId]
#   default: greet-ada.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-greet-ada}
# -N: print each event as it arrives instead of buffering the stream.
curl -sS -N --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Accept: text/event-stream' "$url/workflows/$id/events"

#!/bin/sh
# operationId: signalWorkflow (POST /workflows/{workflowId}/signals/{signalName})
# Sends a signal to a running execution; 202 (and no output) once Temporal has recorded it.
# Scope start.
# Usage: signalWorkflow.sh [workflowId] [signalName] [input]
#   defaults: po-7 decision '{"approved":true,"comment":"looks good"}' (the Approval sample).
#   input is any JSON value.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-po-7}
signal=${2:-decision}
input=${3:-'{"approved":true,"comment":"looks good"}'}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "{\"input\":$input}" \
	"$url/workflows/$id/signals/$signal"

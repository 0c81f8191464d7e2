#!/bin/sh
# operationId: updateWorkflow (POST /workflows/{workflowId}/updates/{updateName})
# Runs an update on a running execution and prints {"updateId":...,"result":...} once it has
# completed; an update the workflow rejects answers 422. Scope start.
# With a fourth argument, the start of an update-with-start: the execution is started first
# when none is running (201), or found (200). Scopes start and read.
# Usage: updateWorkflow.sh [workflowId] [updateName] [input] [start]
#   defaults: po-7 approve '{"comment":"approved by phone"}' (the Approval sample).
#   input is any JSON value; start is a JSON object such as
#   '{"workflowType":"Cart","input":{"customerId":"ada"}}' (with updateName addItem and input
#   '{"sku":"tea","quantity":2,"priceCents":450}': add to the cart, creating it if needed).
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-po-7}
update=${2:-approve}
input=${3:-'{"comment":"approved by phone"}'}
start=${4:-}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "{\"input\":$input${start:+,\"start\":$start}}" \
	"$url/workflows/$id/updates/$update"

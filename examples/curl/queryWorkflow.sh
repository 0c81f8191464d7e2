#!/bin/sh
# operationId: queryWorkflow (POST /workflows/{workflowId}/queries/{queryType})
# Asks an execution a question and prints {"result":...}; a worker must answer. Scope read.
# Usage: queryWorkflow.sh [workflowId] [queryType] [args]
#   defaults: po-7 status '[]' (the Approval sample). args is a JSON array of the query's arguments.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
id=${1:-po-7}
query=${2:-status}
args=${3:-[]}
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "{\"args\":$args}" \
	"$url/workflows/$id/queries/$query"

#!/bin/sh
# operationId: startWorkflow (POST /workflows)
# Starts a workflow execution and prints it. With wait, the answer comes when the execution
# closes or that long passes, so a short workflow's result arrives in one request. Scope start.
# Usage: startWorkflow.sh [workflowType] [input] [workflowId] [wait]
#   defaults: Greeting '{"name":"Ada"}' greet-ada, no wait. input is any JSON value; an empty
#   workflowId lets the gateway make one. wait is a duration such as 30s.
# Environment: GATEWAY_URL (default http://127.0.0.1:8080), GATEWAY_API_KEY (sent as X-API-Key when set).
# An error answer is printed (application/problem+json) and the script exits 22: a second start
# of a running id answers 409.
set -eu
url=${GATEWAY_URL:-http://127.0.0.1:8080}
type=${1:-Greeting}
input=${2:-'{"name":"Ada"}'}
id=${3-greet-ada}
wait=${4:-}

# json_string quotes $1 as a JSON string.
json_string() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

body="{\"workflowType\":$(json_string "$type"),\"input\":$input"
if [ -n "$id" ]; then
	body="$body,\"workflowId\":$(json_string "$id")"
fi
body="$body}"
curl -sS --fail-with-body ${GATEWAY_API_KEY:+-H "X-API-Key: $GATEWAY_API_KEY"} \
	-H 'Content-Type: application/json' -d "$body" \
	"$url/workflows${wait:+?wait=$wait}"

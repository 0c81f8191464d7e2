package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
	"github.com/temporalhttp/gateway/internal/gen"
)

// startWithKey starts through the generated client at base with an Idempotency-Key.
func startWithKey(t *testing.T, base, key, input string) *client.StartWorkflowResponse {
	t.Helper()
	c, err := client.NewClientWithResponses(base)
	require.NoError(t, err)
	raw := json.RawMessage(input)
	resp, err := c.StartWorkflowWithResponse(context.Background(),
		&client.StartWorkflowParams{IdempotencyKey: &key},
		client.StartWorkflowRequest{WorkflowType: "Sleep", Input: &raw})
	require.NoError(t, err)
	return resp
}

func TestIdempotencyKeyRetriedConcurrentlyStartsOneExecution(t *testing.T) {
	key := uniqueID(t)
	const retries = 20
	responses := make([]*client.StartWorkflowResponse, retries)
	var wg sync.WaitGroup
	for i := range retries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			responses[i] = startWithKey(t, gatewayURL, key, `{"seconds":2}`)
		}()
	}
	wg.Wait()

	created, replayed, inUse := 0, 0, 0
	runIDs := map[string]bool{}
	var workflowID string
	for _, r := range responses {
		switch r.StatusCode() {
		case http.StatusCreated:
			created++
			runIDs[r.JSON201.RunId] = true
			workflowID = r.JSON201.WorkflowId
		case http.StatusOK:
			replayed++
			assert.Equal(t, "true", r.HTTPResponse.Header.Get("Idempotent-Replayed"))
			runIDs[r.JSON200.RunId] = true
		case http.StatusConflict:
			// The first request had not finished when this one stopped waiting for it.
			inUse++
			apiProblem(t, r, r.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:idempotency-key-in-use")
		default:
			t.Fatalf("status %d: %s", r.StatusCode(), r.Body)
		}
	}
	assert.Equal(t, 1, created, "exactly one request started the execution")
	assert.Equal(t, retries-1, replayed+inUse)
	t.Logf("%d replayed, %d told the key was in use", replayed, inUse)
	assert.Len(t, runIDs, 1, "every answer names the same run")
	require.True(t, strings.HasPrefix(workflowID, "idem-"))

	// Temporal itself holds that run under the id.
	desc, err := temporalC.DescribeWorkflowExecution(context.Background(), workflowID, "")
	require.NoError(t, err)
	assert.True(t, runIDs[desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()])

	t.Run("the same key with another body is 422", func(t *testing.T) {
		r := startWithKey(t, gatewayURL, key, `{"seconds":3}`)
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode(), "body: %s", r.Body)
		assert.Equal(t, "urn:temporal-http:problem:idempotency-key-reused", r.ApplicationproblemJSON422.Type)
	})
	t.Run("a retry after the run closed, through another gateway, answers the same run", func(t *testing.T) {
		waitClosed(t, "/workflows/"+workflowID)
		other, url, err := startGateway([]string{"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue,
			"GATEWAY_HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn"})
		require.NoError(t, err)
		t.Cleanup(other.stop)
		require.NoError(t, waitReady(url))
		r := startWithKey(t, url, key, `{"seconds":2}`)
		require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		assert.Equal(t, "true", r.HTTPResponse.Header.Get("Idempotent-Replayed"))
		assert.True(t, runIDs[r.JSON200.RunId])
		assert.Equal(t, client.ExecutionStatus(gen.ExecutionStatusCOMPLETED), r.JSON200.Status)
	})
}

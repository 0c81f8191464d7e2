package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// callsAround counts the calls of each operation that the dev server served while f ran.
func callsAround(t *testing.T, f func(), operations ...string) map[string]float64 {
	t.Helper()
	before := map[string]float64{}
	time.Sleep(1500 * time.Millisecond) // the server's metrics are published on an interval
	for _, op := range operations {
		before[op] = temporalCalls(t, op)
	}
	f()
	time.Sleep(1500 * time.Millisecond) // the server's metrics are published on an interval
	delta := map[string]float64{}
	for _, op := range operations {
		delta[op] = temporalCalls(t, op) - before[op]
	}
	return delta
}

// TestDefaultStartIsOneTemporalCall: a start answers 201 with the execution as the start itself
// knows it, after one call to Temporal, as the Go SDK's ExecuteWorkflow makes.
func TestDefaultStartIsOneTemporalCall(t *testing.T) {
	const starts = 10
	c := api(t)
	delta := callsAround(t, func() {
		for range starts {
			id := uniqueID(t)
			r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
				WorkflowType: "Greeting", WorkflowId: &id, Input: rawJSON(`{"name":"Ada"}`)})
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
			e := r.JSON201
			assert.Equal(t, id, e.WorkflowId)
			assert.NotEmpty(t, e.RunId)
			assert.Equal(t, "Greeting", e.WorkflowType)
			assert.Equal(t, taskQueue, e.TaskQueue)
			assert.Equal(t, client.ExecutionStatusRUNNING, e.Status)
		}
	}, "StartWorkflowExecution", "DescribeWorkflowExecution", "GetWorkflowExecutionHistory")
	t.Logf("calls for %d starts: %v", starts, delta)
	assert.Equal(t, float64(starts), delta["StartWorkflowExecution"])
	assert.Zero(t, delta["DescribeWorkflowExecution"], "no Describe after a start")
}

// TestStartAndWaitTakesTheResultFromTheCloseEvent: a start that waits answers the result from the
// run's close event, as the SDK's Get does: a start and a long poll, no Describe.
func TestStartAndWaitTakesTheResultFromTheCloseEvent(t *testing.T) {
	const starts = 5
	c := api(t)
	delta := callsAround(t, func() {
		for range starts {
			r, err := c.StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("30s")},
				client.StartWorkflowRequest{WorkflowType: "Greeting", Input: rawJSON(`{"name":"Ada"}`)})
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
			e := r.JSON201
			require.Equal(t, client.ExecutionStatusCOMPLETED, e.Status)
			assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*e.Result))
			assert.NotNil(t, e.CloseTime)
			require.NotNil(t, e.HistoryLength)
			assert.Positive(t, *e.HistoryLength)
		}
	}, "StartWorkflowExecution", "DescribeWorkflowExecution", "GetWorkflowExecutionHistory")
	t.Logf("calls for %d starts with wait: %v", starts, delta)
	assert.Equal(t, float64(starts), delta["StartWorkflowExecution"])
	assert.Zero(t, delta["DescribeWorkflowExecution"], "no Describe before the wait or after it")
	assert.Equal(t, float64(starts), delta["GetWorkflowExecutionHistory"], "one long poll each")
}

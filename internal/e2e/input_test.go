package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/client"
)

// TestSleepRefusesAnOverflowingInputItself starts Sleep with seconds that overflow a duration
// through Temporal's own client, past the gateway's check: the worker fails the run with
// InvalidInputError, which the gateway reads back.
func TestSleepRefusesAnOverflowingInputItself(t *testing.T) {
	id := uniqueID(t)
	_, err := temporalC.ExecuteWorkflow(t.Context(), sdkclient.StartWorkflowOptions{ID: id, TaskQueue: taskQueue},
		"Sleep", json.RawMessage(`{"seconds":9223372037}`))
	require.NoError(t, err)
	r, err := api(t).GetWorkflowWithResponse(t.Context(), id, &client.GetWorkflowParams{Wait: ptr("20s")})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.Equal(t, client.ExecutionStatusFAILED, r.JSON200.Status, "body: %s", r.Body)
	require.NotNil(t, r.JSON200.Failure)
	require.NotNil(t, r.JSON200.Failure.Type)
	assert.Equal(t, "InvalidInputError", *r.JSON200.Failure.Type)
	assert.Contains(t, r.JSON200.Failure.Message, "seconds must not exceed 9223372036")
}

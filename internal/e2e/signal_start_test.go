package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

func TestSignalWithStart(t *testing.T) {
	c, err := client.NewClientWithResponses(gatewayURL)
	require.NoError(t, err)
	ctx := context.Background()
	wait := "10s"
	approve := json.RawMessage(`{"approved":true,"comment":"signal-with-start"}`)
	input := json.RawMessage(`{"requestId":"r-1","amount":10,"approver":"grace"}`)

	t.Run("starts an execution that is not running, with the signal delivered", func(t *testing.T) {
		id := uniqueID(t)
		r, err := c.StartWorkflowWithResponse(ctx, &client.StartWorkflowParams{Wait: &wait}, client.StartWorkflowRequest{
			WorkflowType: "Approval", WorkflowId: &id, Input: &input,
			Signal: &client.StartSignal{Name: "decision", Input: &approve},
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		require.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON201.Status)
		assert.JSONEq(t, `{"state":"APPROVED","comment":"signal-with-start"}`, string(*r.JSON201.Result))
	})
	t.Run("signals the running execution (200, same run)", func(t *testing.T) {
		id := startApproval(t, 3600)
		runID := get(t, id, nil).JSON200.RunId
		r, err := c.StartWorkflowWithResponse(ctx, &client.StartWorkflowParams{Wait: &wait}, client.StartWorkflowRequest{
			WorkflowType: "Approval", WorkflowId: &id, Input: &input,
			Signal: &client.StartSignal{Name: "decision", Input: &approve},
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		assert.Equal(t, runID, r.JSON200.RunId)
		require.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON200.Status)
		assert.JSONEq(t, `{"state":"APPROVED","comment":"signal-with-start"}`, string(*r.JSON200.Result))
	})
}

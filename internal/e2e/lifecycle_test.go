package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// startApproval starts an Approval and returns its workflow id.
func startApproval(t *testing.T, timeoutSeconds int) string {
	t.Helper()
	id := uniqueID(t)
	start(t, "Approval", id, fmt.Sprintf(`{"requestId":"req-1","amount":1250,"approver":"grace","timeoutSeconds":%d}`, timeoutSeconds))
	return id
}

func queryState(t *testing.T, id string) string {
	t.Helper()
	r, err := api(t).QueryWorkflowWithResponse(t.Context(), id, "status", client.QueryRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON200, "body: %s", r.Body)
	var state struct{ State string }
	require.NoError(t, json.Unmarshal(r.JSON200.Result, &state), "result: %s", r.JSON200.Result)
	return state.State
}

func signalDecision(t *testing.T, id string, approved bool, comment string) *client.SignalWorkflowResponse {
	t.Helper()
	input, err := json.Marshal(map[string]any{"approved": approved, "comment": comment})
	require.NoError(t, err)
	r, err := api(t).SignalWorkflowWithResponse(t.Context(), id, "decision", client.SignalRequest{Input: rawJSON(string(input))})
	require.NoError(t, err)
	return r
}

func approve(t *testing.T, id, comment string) *client.UpdateWorkflowResponse {
	t.Helper()
	input, err := json.Marshal(map[string]string{"comment": comment})
	require.NoError(t, err)
	r, err := api(t).UpdateWorkflowWithResponse(t.Context(), id, "approve", nil, client.UpdateRequest{Input: rawJSON(string(input))})
	require.NoError(t, err)
	return r
}

func TestApprovalBySignal(t *testing.T) {
	for _, tt := range []struct {
		name     string
		approved bool
		want     string
	}{{"approved", true, "APPROVED"}, {"rejected", false, "REJECTED"}} {
		t.Run(tt.name, func(t *testing.T) {
			id := startApproval(t, 3600)
			assert.Equal(t, "PENDING", queryState(t, id))

			r := signalDecision(t, id, tt.approved, "by signal")
			require.Equal(t, http.StatusAccepted, r.StatusCode(), "body: %s", r.Body)

			done := waitClosed(t, "/workflows/"+id)
			require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)
			require.NotNil(t, done.Result)
			assert.JSONEq(t, `{"state":"`+tt.want+`","comment":"by signal"}`, string(*done.Result))
			assert.Equal(t, tt.want, queryState(t, id), "a closed execution still answers queries")
		})
	}
}

func TestApprovalByUpdate(t *testing.T) {
	id := startApproval(t, 3600)
	r, err := api(t).UpdateWorkflowWithResponse(t.Context(), id, "approve", nil, client.UpdateRequest{
		Input:    rawJSON(`{"comment":"by update"}`),
		UpdateId: ptr("approve-1"),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON200, "body: %s", r.Body)
	assert.Equal(t, "approve-1", r.JSON200.UpdateId)
	assert.JSONEq(t, `{"state":"APPROVED"}`, string(r.JSON200.Result))

	done := waitClosed(t, "/workflows/"+id)
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)
	require.NotNil(t, done.Result)
	assert.JSONEq(t, `{"state":"APPROVED","comment":"by update"}`, string(*done.Result))

	t.Run("an update after the decision is refused", func(t *testing.T) {
		other := startApproval(t, 3600)
		s := signalDecision(t, other, false, "no")
		require.Equal(t, http.StatusAccepted, s.StatusCode(), "body: %s", s.Body)
		// A signal and an update that reach the worker in the same workflow task are applied
		// update first (the SDK runs update handlers before the workflow reads its signals), so
		// wait until the decision has been taken.
		require.Eventually(t, func() bool { return queryState(t, other) == "REJECTED" }, 10*time.Second, 20*time.Millisecond)
		// Approval returns as soon as it is decided, so the update nearly always meets a closed run
		// (409); in the moment before it closes, the validator refuses it (422). The validator
		// itself is tested in internal/temporal, and a 422 through this stack in
		// TestUpdateTheWorkflowDoesNotKnowIs422.
		r := approve(t, other, "too late")
		if r.StatusCode() == http.StatusConflict {
			apiProblem(t, r, r.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
			return
		}
		p := apiProblem(t, r, r.ApplicationproblemJSON422, http.StatusUnprocessableEntity, "urn:temporal-http:problem:rejected-by-workflow")
		require.NotNil(t, p.Failure)
		assert.Contains(t, p.Failure.Message, "no longer pending")
	})
}

func TestApprovalRejectedUpdateWhileStillRunning(t *testing.T) {
	// Approve by update, then a second approve: the first decision holds and the validator refuses
	// the second while the run may still be finishing.
	id := startApproval(t, 3600)
	first := approve(t, id, "first")
	require.Equal(t, http.StatusOK, first.StatusCode(), "body: %s", first.Body)
	r := approve(t, id, "second")
	require.Contains(t, []int{http.StatusUnprocessableEntity, http.StatusConflict}, r.StatusCode(), "body: %s", r.Body)
}

func TestUpdateTheWorkflowDoesNotKnowIs422(t *testing.T) {
	c := api(t)
	id := startApproval(t, 3600)
	u, err := c.UpdateWorkflowWithResponse(t.Context(), id, "no-such-update", nil, client.UpdateRequest{})
	require.NoError(t, err)
	p := apiProblem(t, u, u.ApplicationproblemJSON422, http.StatusUnprocessableEntity, "urn:temporal-http:problem:rejected-by-workflow")
	require.NotNil(t, p.Failure)
	assert.Equal(t, "PENDING", queryState(t, id), "a rejected update changes nothing")
	q, err := c.QueryWorkflowWithResponse(t.Context(), id, "no-such-query", client.QueryRequest{})
	require.NoError(t, err)
	apiProblem(t, q, q.ApplicationproblemJSON422, http.StatusUnprocessableEntity, "urn:temporal-http:problem:rejected-by-workflow")
}

func TestApprovalExpires(t *testing.T) {
	id := startApproval(t, 1)
	done := waitClosed(t, "/workflows/"+id)
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)
	require.NotNil(t, done.Result)
	assert.JSONEq(t, `{"state":"EXPIRED","comment":""}`, string(*done.Result))
	assert.Equal(t, "EXPIRED", queryState(t, id))
}

func TestCancelAndTerminate(t *testing.T) {
	c := api(t)
	t.Run("cancel ends a Sleep CANCELED", func(t *testing.T) {
		id := uniqueID(t)
		start(t, "Sleep", id, `{"seconds":60}`)
		r, err := c.CancelWorkflowWithResponse(t.Context(), id, client.StopRequest{Reason: ptr("no longer needed")})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode(), "body: %s", r.Body)
		done := waitClosed(t, "/workflows/"+id)
		assert.Equal(t, client.ExecutionStatusCANCELED, done.Status)
		require.NotNil(t, done.Failure)
		require.NotNil(t, done.Failure.Type)
		assert.Equal(t, "CanceledError", *done.Failure.Type)

		again, err := c.CancelWorkflowWithResponse(t.Context(), id, client.StopRequest{})
		require.NoError(t, err)
		p := apiProblem(t, again, again.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
		require.NotNil(t, p.RunId)
		assert.Equal(t, done.RunId, *p.RunId)
	})
	t.Run("terminate ends a Sleep TERMINATED with the reason", func(t *testing.T) {
		id := uniqueID(t)
		start(t, "Sleep", id, `{"seconds":60}`)
		r, err := c.TerminateWorkflowWithResponse(t.Context(), id, client.StopRequest{Reason: ptr("stuck after a bad deploy")})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode(), "body: %s", r.Body)
		done := waitClosed(t, "/workflows/"+id)
		assert.Equal(t, client.ExecutionStatusTERMINATED, done.Status)
		require.NotNil(t, done.Failure)
		assert.Equal(t, "stuck after a bad deploy", done.Failure.Message)
		require.NotNil(t, done.Failure.Type)
		assert.Equal(t, "TerminatedError", *done.Failure.Type)

		again, err := c.TerminateWorkflowWithResponse(t.Context(), id, client.StopRequest{})
		require.NoError(t, err)
		apiProblem(t, again, again.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
	})
	t.Run("unknown execution is 404", func(t *testing.T) {
		for _, op := range []struct {
			name string
			call func(t *testing.T, id string) (typedResponse, *client.Problem)
		}{
			{"cancel", func(t *testing.T, id string) (typedResponse, *client.Problem) {
				r, err := c.CancelWorkflowWithResponse(t.Context(), id, client.StopRequest{})
				require.NoError(t, err)
				return r, r.ApplicationproblemJSON404
			}},
			{"terminate", func(t *testing.T, id string) (typedResponse, *client.Problem) {
				r, err := c.TerminateWorkflowWithResponse(t.Context(), id, client.StopRequest{})
				require.NoError(t, err)
				return r, r.ApplicationproblemJSON404
			}},
			{"signals/decision", func(t *testing.T, id string) (typedResponse, *client.Problem) {
				r, err := c.SignalWorkflowWithResponse(t.Context(), id, "decision", client.SignalRequest{})
				require.NoError(t, err)
				return r, r.ApplicationproblemJSON404
			}},
			{"updates/approve", func(t *testing.T, id string) (typedResponse, *client.Problem) {
				r, err := c.UpdateWorkflowWithResponse(t.Context(), id, "approve", nil, client.UpdateRequest{})
				require.NoError(t, err)
				return r, r.ApplicationproblemJSON404
			}},
			{"queries/status", func(t *testing.T, id string) (typedResponse, *client.Problem) {
				r, err := c.QueryWorkflowWithResponse(t.Context(), id, "status", client.QueryRequest{})
				require.NoError(t, err)
				return r, r.ApplicationproblemJSON404
			}},
		} {
			t.Run(op.name, func(t *testing.T) {
				r, p := op.call(t, "no-such-"+uniqueID(t))
				apiProblem(t, r, p, http.StatusNotFound, "urn:temporal-http:problem:workflow-not-found")
			})
		}
	})
}

func TestSignalToAClosedExecutionIs409(t *testing.T) {
	id := uniqueID(t)
	r := start(t, "Greeting", id, `{"name":"Ada"}`)
	waitClosed(t, r.Headers201.Location)
	s, err := api(t).SignalWorkflowWithResponse(t.Context(), id, "decision", client.SignalRequest{})
	require.NoError(t, err)
	apiProblem(t, s, s.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
}

func TestWorkflowTypesListsAllSamples(t *testing.T) {
	r, err := api(t).ListWorkflowTypesWithResponse(t.Context())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON200, "body: %s", r.Body)
	var names []string
	for _, wt := range r.JSON200.WorkflowTypes {
		names = append(names, wt.Name)
		assert.NotEmpty(t, wt.Description, wt.Name)
	}
	assert.ElementsMatch(t, []string{"Greeting", "Echo", "Sleep", "MoneyTransfer", "CronCounter", "Approval", "Cart"}, names)
}

package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
)

// startApproval starts an Approval and returns its workflow id.
func startApproval(t *testing.T, timeoutSeconds int) string {
	t.Helper()
	id := uniqueID(t)
	r := start(t, `{"workflowType":"Approval","workflowId":"`+id+`","input":{"requestId":"req-1","amount":1250,"approver":"grace","timeoutSeconds":`+mustJSON(t, timeoutSeconds)+`}}`)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	return id
}

func post(t *testing.T, path, body string) response {
	t.Helper()
	return do(t, http.MethodPost, path, "application/json", body)
}

func queryState(t *testing.T, id string) string {
	t.Helper()
	r := post(t, "/workflows/"+id+"/queries/status", `{}`)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var q struct {
		Result struct{ State string } `json:"result"`
	}
	require.NoError(t, json.Unmarshal(r.body, &q))
	return q.Result.State
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

			r := post(t, "/workflows/"+id+"/signals/decision", `{"input":{"approved":`+mustJSON(t, tt.approved)+`,"comment":"by signal"}}`)
			require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)

			done := waitClosed(t, "/workflows/"+id)
			require.Equal(t, gen.ExecutionStatusCOMPLETED, done.Status)
			require.NotNil(t, done.Result)
			assert.JSONEq(t, `{"state":"`+tt.want+`","comment":"by signal"}`, string(*done.Result))
			assert.Equal(t, tt.want, queryState(t, id), "a closed execution still answers queries")
		})
	}
}

func TestApprovalByUpdate(t *testing.T) {
	id := startApproval(t, 3600)
	r := post(t, "/workflows/"+id+"/updates/approve", `{"input":{"comment":"by update"},"updateId":"approve-1"}`)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var u gen.UpdateResponse
	require.NoError(t, json.Unmarshal(r.body, &u))
	assert.Equal(t, "approve-1", u.UpdateId)
	assert.JSONEq(t, `{"state":"APPROVED"}`, string(u.Result))

	done := waitClosed(t, "/workflows/"+id)
	require.Equal(t, gen.ExecutionStatusCOMPLETED, done.Status)
	assert.JSONEq(t, `{"state":"APPROVED","comment":"by update"}`, string(*done.Result))

	t.Run("an update after the decision is rejected with 422", func(t *testing.T) {
		other := startApproval(t, 3600)
		require.Equal(t, http.StatusAccepted, post(t, "/workflows/"+other+"/signals/decision", `{"input":{"approved":false,"comment":"no"}}`).status)
		// A signal and an update that reach the worker in the same workflow task are applied
		// update first (the SDK runs update handlers before the workflow reads its signals), so
		// wait until the decision has been taken.
		require.Eventually(t, func() bool { return queryState(t, other) == "REJECTED" }, 10*time.Second, 20*time.Millisecond)
		// The rejection is decided by the workflow's validator while the run is still open, or
		// the run has closed already: both refuse the update, with 422 or 409.
		r := post(t, "/workflows/"+other+"/updates/approve", `{"input":{"comment":"too late"}}`)
		if r.status == http.StatusConflict {
			problem(t, r, http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
			return
		}
		p := problem(t, r, http.StatusUnprocessableEntity, "urn:temporal-http:problem:rejected-by-workflow")
		require.NotNil(t, p.Failure)
		assert.Contains(t, p.Failure.Message, "no longer pending")
	})
}

func TestApprovalRejectedUpdateWhileStillRunning(t *testing.T) {
	// Approve by update, then a second approve: the first decision holds and the validator refuses
	// the second while the run may still be finishing.
	id := startApproval(t, 3600)
	require.Equal(t, http.StatusOK, post(t, "/workflows/"+id+"/updates/approve", `{"input":{"comment":"first"}}`).status)
	r := post(t, "/workflows/"+id+"/updates/approve", `{"input":{"comment":"second"}}`)
	require.Contains(t, []int{http.StatusUnprocessableEntity, http.StatusConflict}, r.status, "body: %s", r.body)
}

func TestUpdateTheWorkflowDoesNotKnowIs422(t *testing.T) {
	id := startApproval(t, 3600)
	p := problem(t, post(t, "/workflows/"+id+"/updates/no-such-update", `{}`), http.StatusUnprocessableEntity, "urn:temporal-http:problem:rejected-by-workflow")
	require.NotNil(t, p.Failure)
	assert.Equal(t, "PENDING", queryState(t, id), "a rejected update changes nothing")
	problem(t, post(t, "/workflows/"+id+"/queries/no-such-query", `{}`), http.StatusUnprocessableEntity, "urn:temporal-http:problem:rejected-by-workflow")
}

func TestApprovalExpires(t *testing.T) {
	id := startApproval(t, 1)
	done := waitClosed(t, "/workflows/"+id)
	require.Equal(t, gen.ExecutionStatusCOMPLETED, done.Status)
	assert.JSONEq(t, `{"state":"EXPIRED","comment":""}`, string(*done.Result))
	assert.Equal(t, "EXPIRED", queryState(t, id))
}

func TestCancelAndTerminate(t *testing.T) {
	t.Run("cancel ends a Sleep CANCELED", func(t *testing.T) {
		id := uniqueID(t)
		require.Equal(t, http.StatusCreated, start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":60}}`).status)
		r := post(t, "/workflows/"+id+"/cancel", `{"reason":"no longer needed"}`)
		require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
		done := waitClosed(t, "/workflows/"+id)
		assert.Equal(t, gen.ExecutionStatusCANCELED, done.Status)
		require.NotNil(t, done.Failure)
		assert.Equal(t, "CanceledError", *done.Failure.Type)

		p := problem(t, post(t, "/workflows/"+id+"/cancel", `{}`), http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
		require.NotNil(t, p.RunId)
		assert.Equal(t, done.RunId, *p.RunId)
	})
	t.Run("terminate ends a Sleep TERMINATED with the reason", func(t *testing.T) {
		id := uniqueID(t)
		require.Equal(t, http.StatusCreated, start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":60}}`).status)
		require.Equal(t, http.StatusAccepted, post(t, "/workflows/"+id+"/terminate", `{"reason":"stuck after a bad deploy"}`).status)
		done := waitClosed(t, "/workflows/"+id)
		assert.Equal(t, gen.ExecutionStatusTERMINATED, done.Status)
		require.NotNil(t, done.Failure)
		assert.Equal(t, "stuck after a bad deploy", done.Failure.Message)
		assert.Equal(t, "TerminatedError", *done.Failure.Type)
		problem(t, post(t, "/workflows/"+id+"/terminate", `{}`), http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
	})
	t.Run("unknown execution is 404", func(t *testing.T) {
		for _, op := range []string{"cancel", "terminate", "signals/decision", "updates/approve", "queries/status"} {
			problem(t, post(t, "/workflows/no-such-"+uniqueID(t)+"/"+op, `{}`), http.StatusNotFound, "urn:temporal-http:problem:workflow-not-found")
		}
	})
}

func TestSignalToAClosedExecutionIs409(t *testing.T) {
	id := uniqueID(t)
	r := start(t, `{"workflowType":"Greeting","workflowId":"`+id+`","input":{"name":"Ada"}}`)
	require.Equal(t, http.StatusCreated, r.status)
	waitClosed(t, r.header.Get("Location"))
	problem(t, post(t, "/workflows/"+id+"/signals/decision", `{}`), http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
}

func TestWorkflowTypesListsAllSamples(t *testing.T) {
	r := do(t, http.MethodGet, "/workflow-types", "", "")
	require.Equal(t, http.StatusOK, r.status)
	var list gen.WorkflowTypeList
	require.NoError(t, json.Unmarshal(r.body, &list))
	var names []string
	for _, wt := range list.WorkflowTypes {
		names = append(names, wt.Name)
		assert.NotEmpty(t, wt.Description)
	}
	assert.ElementsMatch(t, []string{"Greeting", "Echo", "Sleep", "MoneyTransfer", "CronCounter", "Approval"}, names)
}

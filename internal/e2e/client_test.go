package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// These tests drive the stack as a Go user of the gateway would: through the client generated
// from api/openapi.yaml, reading typed answers instead of raw bodies.

func newClient(t *testing.T) *client.ClientWithResponses {
	t.Helper()
	c, err := client.NewClientWithResponses(gatewayURL)
	require.NoError(t, err)
	return c
}

func rawJSON(s string) *json.RawMessage {
	r := json.RawMessage(s)
	return &r
}

// clientStart starts a workflow through c and requires a 201.
func clientStart(t *testing.T, c *client.ClientWithResponses, workflowType, id, input string) *client.StartWorkflowResponse {
	t.Helper()
	r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
		WorkflowType: workflowType,
		WorkflowId:   &id,
		Input:        rawJSON(input),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON201, "body: %s", r.Body)
	return r
}

// clientWaitClosed reads the run through c until it is no longer RUNNING.
func clientWaitClosed(t *testing.T, c *client.ClientWithResponses, id, runID string) client.Execution {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := c.GetWorkflowWithResponse(t.Context(), id, &client.GetWorkflowParams{RunId: &runID})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON200, "body: %s", r.Body)
		if r.JSON200.Status != client.ExecutionStatusRUNNING {
			return *r.JSON200
		}
		require.True(t, time.Now().Before(deadline), "execution %s/%s still RUNNING after 20s", id, runID)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestClientGreetingCompletesWithItsResult(t *testing.T) {
	c := newClient(t)
	id := uniqueID(t)
	r := clientStart(t, c, "Greeting", id, `{"name":"Ada"}`)
	started := r.JSON201
	assert.Equal(t, id, started.WorkflowId)
	assert.Equal(t, "Greeting", started.WorkflowType)
	assert.Equal(t, taskQueue, started.TaskQueue)
	require.NotEmpty(t, started.RunId)
	location := "/workflows/" + id + "?runId=" + started.RunId
	assert.Equal(t, location, r.HTTPResponse.Header.Get("Location"))
	require.NotNil(t, r.Headers201)
	assert.Equal(t, location, r.Headers201.Location)

	done := clientWaitClosed(t, c, id, started.RunId)
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)
	assert.Equal(t, started.RunId, done.RunId)
	assert.NotNil(t, done.CloseTime)
	assert.Nil(t, done.Failure)
	require.NotNil(t, done.Result)
	var result struct {
		Greeting string `json:"greeting"`
	}
	require.NoError(t, json.Unmarshal(*done.Result, &result))
	assert.Equal(t, "Hello, Ada!", result.Greeting)
	assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*done.Result))
}

func TestClientDuplicateWorkflowIDIs409(t *testing.T) {
	c := newClient(t)
	id := uniqueID(t)
	first := clientStart(t, c, "Sleep", id, `{"seconds":60}`)
	t.Cleanup(func() {
		// A fresh context: t.Context() is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = c.TerminateWorkflowWithResponse(ctx, id, client.StopRequest{})
	})

	r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
		WorkflowType: "Sleep",
		WorkflowId:   &id,
		Input:        rawJSON(`{"seconds":60}`),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, r.StatusCode(), "body: %s", r.Body)
	assert.Equal(t, "application/problem+json", r.HTTPResponse.Header.Get("Content-Type"))
	assert.Nil(t, r.JSON201)
	p := r.ApplicationproblemJSON409
	require.NotNil(t, p, "body: %s", r.Body)
	assert.Equal(t, http.StatusConflict, p.Status)
	assert.Equal(t, "urn:temporal-http:problem:workflow-already-started", p.Type)
	require.NotNil(t, p.WorkflowId)
	assert.Equal(t, id, *p.WorkflowId)
	require.NotNil(t, p.RunId)
	assert.Equal(t, first.JSON201.RunId, *p.RunId)
}

func TestClientUnknownExecutionIs404(t *testing.T) {
	c := newClient(t)
	r, err := c.GetWorkflowWithResponse(t.Context(), "no-such-"+uniqueID(t), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, r.StatusCode(), "body: %s", r.Body)
	assert.Nil(t, r.JSON200)
	require.NotNil(t, r.ApplicationproblemJSON404, "body: %s", r.Body)
	assert.Equal(t, "urn:temporal-http:problem:workflow-not-found", r.ApplicationproblemJSON404.Type)
	assert.Equal(t, http.StatusNotFound, r.ApplicationproblemJSON404.Status)
}

func TestClientApprovalQueryThenSignal(t *testing.T) {
	c := newClient(t)
	id := uniqueID(t)
	started := clientStart(t, c, "Approval", id, `{"requestId":"r","amount":1,"approver":"a"}`).JSON201

	q, err := c.QueryWorkflowWithResponse(t.Context(), id, "status", client.QueryRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, q.StatusCode(), "body: %s", q.Body)
	require.NotNil(t, q.JSON200, "body: %s", q.Body)
	assert.JSONEq(t, `{"state":"PENDING"}`, string(q.JSON200.Result))

	s, err := c.SignalWorkflowWithResponse(t.Context(), id, "decision", client.SignalRequest{
		Input: rawJSON(`{"approved":true,"comment":"c"}`),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, s.StatusCode(), "body: %s", s.Body)

	done := clientWaitClosed(t, c, id, started.RunId)
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)
	require.NotNil(t, done.Result)
	assert.JSONEq(t, `{"state":"APPROVED","comment":"c"}`, string(*done.Result))
}

func TestClientListWorkflowTypes(t *testing.T) {
	c := newClient(t)
	r, err := c.ListWorkflowTypesWithResponse(t.Context())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON200, "body: %s", r.Body)
	var names []string
	for _, wt := range r.JSON200.WorkflowTypes {
		names = append(names, wt.Name)
		assert.NotEmpty(t, wt.Description, wt.Name)
	}
	assert.Contains(t, names, "Approval")
	assert.ElementsMatch(t, []string{"Greeting", "Echo", "Sleep", "MoneyTransfer", "CronCounter", "Approval"}, names)
}

func TestClientGetWithWaitAnswersWhenTheRunCloses(t *testing.T) {
	c := newClient(t)
	id := uniqueID(t)
	started := clientStart(t, c, "Sleep", id, `{"seconds":1}`).JSON201

	wait := "5s"
	begin := time.Now()
	r, err := c.GetWorkflowWithResponse(t.Context(), id, &client.GetWorkflowParams{RunId: &started.RunId, Wait: &wait})
	elapsed := time.Since(begin)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON200, "body: %s", r.Body)
	require.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON200.Status, "one read with wait=5s must see a 1s Sleep close")
	require.NotNil(t, r.JSON200.Result)
	assert.JSONEq(t, `{"sleptSeconds":1}`, string(*r.JSON200.Result))
	assert.Less(t, elapsed, 5*time.Second, "the answer comes when the run closes, not when the wait ends")
}

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	temporalclient "go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/client"
)

// listAll reads every page of GET /workflows with params and answers the executions and the
// number of pages it took.
func listAll(t *testing.T, params client.ListWorkflowsParams) ([]client.Execution, int) {
	t.Helper()
	c := api(t)
	var all []client.Execution
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, 100, "listing does not end")
		r, err := c.ListWorkflowsWithResponse(t.Context(), &params)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON200, "body: %s", r.Body)
		all = append(all, r.JSON200.Executions...)
		if r.JSON200.NextPageToken == nil {
			return all, pages
		}
		require.NotEmpty(t, *r.JSON200.NextPageToken)
		params.PageToken = r.JSON200.NextPageToken
	}
}

func TestListWorkflowsFiltersAndPages(t *testing.T) {
	// Visibility stores start times as the server's clock says; a second of slack covers rounding.
	before := time.Now().Add(-time.Second).UTC()
	prefix := uniqueID(t)
	var ids []string
	for i := range 5 {
		id := fmt.Sprintf("%s-%d", prefix, i)
		start(t, "Echo", id, `{"i":`+strconv.Itoa(i)+`}`)
		ids = append(ids, id)
	}
	for _, id := range ids {
		require.Equal(t, client.ExecutionStatusCOMPLETED, waitClosed(t, "/workflows/"+id).Status)
	}

	// Visibility lags the runs it lists: read the whole listing again until it shows them all.
	var (
		got   []client.Execution
		pages int
		found map[string]bool
	)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, pages = listAll(t, client.ListWorkflowsParams{
			WorkflowType: ptr("Echo"), Status: ptr(client.ExecutionStatusCOMPLETED),
			StartedAfter: &before, PageSize: ptr(2),
		})
		found = map[string]bool{}
		for _, e := range got {
			found[e.WorkflowId] = true
		}
		missing := 0
		for _, id := range ids {
			if !found[id] {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, id := range ids {
		assert.True(t, found[id], "%s is not listed within 10s", id)
	}
	assert.Greater(t, pages, 1, "5 executions at 2 a page took one page")
	for _, e := range got {
		assert.Equal(t, client.ExecutionStatusCOMPLETED, e.Status, e.WorkflowId)
		assert.Equal(t, "Echo", e.WorkflowType, e.WorkflowId)
		require.NotNil(t, e.StartTime, "a list tells when each run started")
		assert.False(t, e.StartTime.Before(before), "%s started %v, before %v", e.WorkflowId, e.StartTime, before)
		assert.NotNil(t, e.CloseTime, e.WorkflowId)
		assert.Nil(t, e.Result, "a listed execution carries its result")
	}
}

func TestListWorkflowsQuotesAreOnlyText(t *testing.T) {
	// An Echo run that a query broken open by the texts below would list.
	id := uniqueID(t)
	start(t, "Echo", id, `1`)
	waitClosed(t, "/workflows/"+id)
	deadline := time.Now().Add(10 * time.Second)
	for {
		echoes, _ := listAll(t, client.ListWorkflowsParams{WorkflowType: ptr("Echo")})
		if len(echoes) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no Echo run is listed within 10s")
		time.Sleep(100 * time.Millisecond)
	}

	c := api(t)
	for _, workflowType := range []string{
		`x' OR WorkflowType = 'Echo`,
		`x\' OR WorkflowType = 'Echo`,
		`Echo\`,
	} {
		t.Run(workflowType, func(t *testing.T) {
			r, err := c.ListWorkflowsWithResponse(t.Context(), &client.ListWorkflowsParams{WorkflowType: &workflowType})
			require.NoError(t, err)
			require.Equal(t, workflowType, r.HTTPResponse.Request.URL.Query().Get("workflowType"), "the client sent the text as it is")
			// Temporal parsed the query, and the text stayed one string: no execution has this type.
			require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
			require.NotNil(t, r.JSON200, "body: %s", r.Body)
			assert.Empty(t, r.JSON200.Executions)
		})
	}
}

func TestListWorkflowsTypeWithAQuote(t *testing.T) {
	// Started with Temporal's client: the gateway starts only the types its workers host. No
	// worker polls the task queue, so the run stays RUNNING until the cleanup ends it. (No
	// backslash or double quote: the dev server's SQLite visibility matches no value with one,
	// however the query spells it.)
	const workflowType = `it's a type`
	id := uniqueID(t)
	run, err := temporalC.ExecuteWorkflow(t.Context(), temporalclient.StartWorkflowOptions{ID: id, TaskQueue: "e2e-no-worker"}, workflowType)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = temporalC.TerminateWorkflow(ctx, id, run.GetRunID(), "test over")
	})

	var got []client.Execution
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got, _ = listAll(t, client.ListWorkflowsParams{WorkflowType: ptr(workflowType), Status: ptr(client.ExecutionStatusRUNNING)})
	}
	require.Len(t, got, 1, "the run of type %q is not listed within 10s", workflowType)
	assert.Equal(t, id, got[0].WorkflowId)
	assert.Equal(t, workflowType, got[0].WorkflowType)
	assert.Equal(t, client.ExecutionStatusRUNNING, got[0].Status)
}

func TestListWorkflowsBadPageTokenIs400(t *testing.T) {
	c := api(t)
	for _, token := range []string{"not a token!", base64.RawURLEncoding.EncodeToString([]byte("forged"))} {
		t.Run(token, func(t *testing.T) {
			r, err := c.ListWorkflowsWithResponse(t.Context(), &client.ListWorkflowsParams{PageToken: &token})
			require.NoError(t, err)
			require.Equal(t, token, r.HTTPResponse.Request.URL.Query().Get("pageToken"), "the client sent the token as it is")
			p := apiProblem(t, r, r.ApplicationproblemJSON400, http.StatusBadRequest, "urn:temporal-http:problem:validation")
			require.NotNil(t, p.Errors)
			require.Len(t, *p.Errors, 1)
			assert.Equal(t, "pageToken", (*p.Errors)[0].Field)
			assert.Equal(t, client.FieldErrorInQuery, (*p.Errors)[0].In)
		})
	}
}

func TestWorkflowHistory(t *testing.T) {
	c := api(t)
	id := uniqueID(t)
	done := waitClosed(t, start(t, "Greeting", id, `{"name":"Ada"}`).Headers201.Location)
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)

	type event struct {
		EventID   string `json:"eventId"`
		EventType string `json:"eventType"`
	}
	var events []event
	pages := 0
	// Temporal reads the page size as a hint: a page holds whole batches of events, so it may hold
	// more than asked for.
	params := client.GetWorkflowHistoryParams{RunId: &done.RunId, PageSize: ptr(2)}
	for {
		pages++
		require.LessOrEqual(t, pages, 100, "history paging does not end")
		r, err := c.GetWorkflowHistoryWithResponse(t.Context(), id, &params)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON200, "body: %s", r.Body)
		for _, raw := range r.JSON200.Events {
			var e event
			require.NoError(t, json.Unmarshal(raw, &e), "event: %s", raw)
			events = append(events, e)
		}
		if r.JSON200.NextPageToken == nil {
			break
		}
		params.PageToken = r.JSON200.NextPageToken
	}
	require.NotEmpty(t, events)
	assert.Equal(t, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", events[0].EventType)
	assert.Equal(t, "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED", events[len(events)-1].EventType)
	for i, e := range events {
		assert.Equal(t, strconv.Itoa(i+1), e.EventID, "events are not in order, or some are missing")
	}
	require.NotNil(t, done.HistoryLength)
	assert.Equal(t, *done.HistoryLength, int64(len(events)))
	assert.Greater(t, pages, 1, "a history of %d events at 2 a page took one page", len(events))

	// The latest run's history, when no run is named, is the same.
	latest, err := c.GetWorkflowHistoryWithResponse(t.Context(), id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, latest.StatusCode(), "body: %s", latest.Body)
	require.NotNil(t, latest.JSON200, "body: %s", latest.Body)
	assert.Len(t, latest.JSON200.Events, len(events))
	assert.Nil(t, latest.JSON200.NextPageToken)
}

func TestWorkflowHistoryErrors(t *testing.T) {
	c := api(t)
	missing := "no-such-" + uniqueID(t)
	r, err := c.GetWorkflowHistoryWithResponse(t.Context(), missing, nil)
	require.NoError(t, err)
	p := apiProblem(t, r, r.ApplicationproblemJSON404, http.StatusNotFound, "urn:temporal-http:problem:workflow-not-found")
	require.NotNil(t, p.WorkflowId)
	assert.Equal(t, missing, *p.WorkflowId)

	id := uniqueID(t)
	start(t, "Greeting", id, `{"name":"Ada"}`)
	forged := base64.RawURLEncoding.EncodeToString([]byte("forged"))
	r, err = c.GetWorkflowHistoryWithResponse(t.Context(), id, &client.GetWorkflowHistoryParams{PageToken: &forged})
	require.NoError(t, err)
	p = apiProblem(t, r, r.ApplicationproblemJSON400, http.StatusBadRequest, "urn:temporal-http:problem:validation")
	require.NotNil(t, p.Errors)
	require.Len(t, *p.Errors, 1)
	assert.Equal(t, "pageToken", (*p.Errors)[0].Field)
}

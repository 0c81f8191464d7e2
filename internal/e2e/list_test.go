package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/gen"
)

// listAll reads every page of GET /workflows with params and answers the executions and the
// number of pages it took.
func listAll(t *testing.T, params url.Values) ([]gen.Execution, int) {
	t.Helper()
	var all []gen.Execution
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, 100, "listing does not end")
		r := do(t, http.MethodGet, "/workflows?"+params.Encode(), "", "")
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var list gen.ExecutionList
		require.NoError(t, json.Unmarshal(r.body, &list), "body: %s", r.body)
		all = append(all, list.Executions...)
		if list.NextPageToken == nil {
			return all, pages
		}
		require.NotEmpty(t, *list.NextPageToken)
		params.Set("pageToken", *list.NextPageToken)
	}
}

func TestListWorkflowsFiltersAndPages(t *testing.T) {
	// Visibility stores start times as the server's clock says; a second of slack covers rounding.
	before := time.Now().Add(-time.Second).UTC()
	prefix := uniqueID(t)
	var ids []string
	for i := range 5 {
		id := fmt.Sprintf("%s-%d", prefix, i)
		r := start(t, `{"workflowType":"Echo","workflowId":"`+id+`","input":{"i":`+strconv.Itoa(i)+`}}`)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		ids = append(ids, id)
	}
	for _, id := range ids {
		require.Equal(t, gen.ExecutionStatusCOMPLETED, waitClosed(t, "/workflows/"+id).Status)
	}

	// Visibility lags the runs it lists: read the whole listing again until it shows them all.
	var (
		got   []gen.Execution
		pages int
		found map[string]bool
	)
	deadline := time.Now().Add(10 * time.Second)
	for {
		params := url.Values{
			"workflowType": {"Echo"}, "status": {"COMPLETED"},
			"startedAfter": {before.Format(time.RFC3339Nano)}, "pageSize": {"2"},
		}
		got, pages = listAll(t, params)
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
		assert.Equal(t, gen.ExecutionStatusCOMPLETED, e.Status, e.WorkflowId)
		assert.Equal(t, "Echo", e.WorkflowType, e.WorkflowId)
		assert.False(t, e.StartTime.Before(before), "%s started %v, before %v", e.WorkflowId, e.StartTime, before)
		assert.NotNil(t, e.CloseTime, e.WorkflowId)
		assert.Nil(t, e.Result, "a listed execution carries its result")
	}
}

func TestListWorkflowsQuotesAreOnlyText(t *testing.T) {
	// An Echo run that a query broken open by the texts below would list.
	id := uniqueID(t)
	r := start(t, `{"workflowType":"Echo","workflowId":"`+id+`","input":1}`)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	waitClosed(t, "/workflows/"+id)
	deadline := time.Now().Add(10 * time.Second)
	for {
		echoes, _ := listAll(t, url.Values{"workflowType": {"Echo"}})
		if len(echoes) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no Echo run is listed within 10s")
		time.Sleep(100 * time.Millisecond)
	}

	for _, workflowType := range []string{
		`x' OR WorkflowType = 'Echo`,
		`x\' OR WorkflowType = 'Echo`,
		`Echo\`,
	} {
		t.Run(workflowType, func(t *testing.T) {
			r := do(t, http.MethodGet, "/workflows?"+url.Values{"workflowType": {workflowType}}.Encode(), "", "")
			// Temporal parsed the query, and the text stayed one string: no execution has this type.
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			var list gen.ExecutionList
			require.NoError(t, json.Unmarshal(r.body, &list), "body: %s", r.body)
			assert.Empty(t, list.Executions)
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
	run, err := temporalC.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: "e2e-no-worker"}, workflowType)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = temporalC.TerminateWorkflow(ctx, id, run.GetRunID(), "test over")
	})

	var got []gen.Execution
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got, _ = listAll(t, url.Values{"workflowType": {workflowType}, "status": {"RUNNING"}})
	}
	require.Len(t, got, 1, "the run of type %q is not listed within 10s", workflowType)
	assert.Equal(t, id, got[0].WorkflowId)
	assert.Equal(t, workflowType, got[0].WorkflowType)
	assert.Equal(t, gen.ExecutionStatusRUNNING, got[0].Status)
}

func TestListWorkflowsBadPageTokenIs400(t *testing.T) {
	for _, token := range []string{"not a token!", base64.RawURLEncoding.EncodeToString([]byte("forged"))} {
		t.Run(token, func(t *testing.T) {
			r := do(t, http.MethodGet, "/workflows?"+url.Values{"pageToken": {token}}.Encode(), "", "")
			p := problem(t, r, http.StatusBadRequest, "urn:temporal-http:problem:validation")
			require.NotNil(t, p.Errors)
			require.Len(t, *p.Errors, 1)
			assert.Equal(t, "pageToken", (*p.Errors)[0].Field)
			assert.Equal(t, gen.FieldErrorInQuery, (*p.Errors)[0].In)
		})
	}
}

func TestWorkflowHistory(t *testing.T) {
	id := uniqueID(t)
	r := start(t, `{"workflowType":"Greeting","workflowId":"`+id+`","input":{"name":"Ada"}}`)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	done := waitClosed(t, r.header.Get("Location"))
	require.Equal(t, gen.ExecutionStatusCOMPLETED, done.Status)

	type event struct {
		EventID   string `json:"eventId"`
		EventType string `json:"eventType"`
	}
	var events []event
	pages := 0
	// Temporal reads the page size as a hint: a page holds whole batches of events, so it may hold
	// more than asked for.
	params := url.Values{"runId": {done.RunId}, "pageSize": {"2"}}
	for {
		pages++
		require.LessOrEqual(t, pages, 100, "history paging does not end")
		r := do(t, http.MethodGet, "/workflows/"+id+"/history?"+params.Encode(), "", "")
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var page gen.HistoryPage
		require.NoError(t, json.Unmarshal(r.body, &page), "body: %s", r.body)
		for _, raw := range page.Events {
			var e event
			require.NoError(t, json.Unmarshal(raw, &e), "event: %s", raw)
			events = append(events, e)
		}
		if page.NextPageToken == nil {
			break
		}
		params.Set("pageToken", *page.NextPageToken)
	}
	require.NotEmpty(t, events)
	assert.Equal(t, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", events[0].EventType)
	assert.Equal(t, "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED", events[len(events)-1].EventType)
	for i, e := range events {
		assert.Equal(t, strconv.Itoa(i+1), e.EventID, "events are not in order, or some are missing")
	}
	assert.Equal(t, done.HistoryLength, int64(len(events)))
	assert.Greater(t, pages, 1, "a history of %d events at 2 a page took one page", len(events))

	// The latest run's history, when no run is named, is the same.
	latest := do(t, http.MethodGet, "/workflows/"+id+"/history", "", "")
	require.Equal(t, http.StatusOK, latest.status, "body: %s", latest.body)
	var page gen.HistoryPage
	require.NoError(t, json.Unmarshal(latest.body, &page))
	assert.Len(t, page.Events, len(events))
	assert.Nil(t, page.NextPageToken)
}

func TestWorkflowHistoryErrors(t *testing.T) {
	missing := "no-such-" + uniqueID(t)
	r := do(t, http.MethodGet, "/workflows/"+missing+"/history", "", "")
	p := problem(t, r, http.StatusNotFound, "urn:temporal-http:problem:workflow-not-found")
	require.NotNil(t, p.WorkflowId)
	assert.Equal(t, missing, *p.WorkflowId)

	id := uniqueID(t)
	started := start(t, `{"workflowType":"Greeting","workflowId":"`+id+`","input":{"name":"Ada"}}`)
	require.Equal(t, http.StatusCreated, started.status, "body: %s", started.body)
	forged := base64.RawURLEncoding.EncodeToString([]byte("forged"))
	r = do(t, http.MethodGet, "/workflows/"+id+"/history?pageToken="+forged, "", "")
	p = problem(t, r, http.StatusBadRequest, "urn:temporal-http:problem:validation")
	require.NotNil(t, p.Errors)
	require.Len(t, *p.Errors, 1)
	assert.Equal(t, "pageToken", (*p.Errors)[0].Field)
}

package handlers_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
)

func listTarget(params url.Values) string {
	if len(params) == 0 {
		return "/workflows"
	}
	return "/workflows?" + params.Encode()
}

func TestListWorkflowsQuery(t *testing.T) {
	tests := []struct {
		name   string
		params url.Values
		want   string
	}{
		{"no filter", nil, ``},
		{"running", url.Values{"status": {"RUNNING"}}, `ExecutionStatus = 'Running'`},
		{"completed", url.Values{"status": {"COMPLETED"}}, `ExecutionStatus = 'Completed'`},
		{"failed", url.Values{"status": {"FAILED"}}, `ExecutionStatus = 'Failed'`},
		{"canceled", url.Values{"status": {"CANCELED"}}, `ExecutionStatus = 'Canceled'`},
		{"terminated", url.Values{"status": {"TERMINATED"}}, `ExecutionStatus = 'Terminated'`},
		{"continued as new", url.Values{"status": {"CONTINUED_AS_NEW"}}, `ExecutionStatus = 'ContinuedAsNew'`},
		{"timed out", url.Values{"status": {"TIMED_OUT"}}, `ExecutionStatus = 'TimedOut'`},
		{"workflow type", url.Values{"workflowType": {"Echo"}}, `WorkflowType = 'Echo'`},
		{"schedule", url.Values{"scheduleId": {"nightly"}, "workflowType": {"Greeting"}},
			`WorkflowType = 'Greeting' AND TemporalScheduledById = 'nightly'`},
		{"quote in schedule id", url.Values{"scheduleId": {"x' OR 1=1 --"}}, `TemporalScheduledById = 'x\' OR 1=1 --'`},
		{"started after, in UTC", url.Values{"startedAfter": {"2025-03-14T16:09:26.535+01:00"}},
			`StartTime > '2025-03-14T15:09:26.535Z'`},
		{"started before", url.Values{"startedBefore": {"2025-03-14T15:09:26Z"}}, `StartTime < '2025-03-14T15:09:26Z'`},
		{
			"every filter",
			url.Values{
				"status": {"FAILED"}, "workflowType": {"MoneyTransfer"},
				"startedAfter": {"2025-03-14T00:00:00Z"}, "startedBefore": {"2025-03-15T00:00:00.000000001Z"},
			},
			`ExecutionStatus = 'Failed' AND WorkflowType = 'MoneyTransfer' AND StartTime > '2025-03-14T00:00:00Z'` +
				` AND StartTime < '2025-03-15T00:00:00.000000001Z'`,
		},
		// No text of a client's can end the string literal it is put in.
		{"quote in workflow type", url.Values{"workflowType": {"it's"}}, `WorkflowType = 'it\'s'`},
		{"quote that tries to add a condition", url.Values{"workflowType": {"x' OR WorkflowType != '"}},
			`WorkflowType = 'x\' OR WorkflowType != \''`},
		{"backslash that tries to escape the closing quote", url.Values{"workflowType": {`a\`}, "status": {"RUNNING"}},
			`ExecutionStatus = 'Running' AND WorkflowType = 'a\\'`},
		{"backslash before a quote", url.Values{"workflowType": {`a\' OR 1=1 --`}}, `WorkflowType = 'a\\\' OR 1=1 --'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, listTarget(tt.params), ""))

			require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
			calls := fake.listCalls()
			require.Len(t, calls, 1)
			assert.Equal(t, tt.want, calls[0].query)
			assert.True(t, calls[0].hasDeadline, "the Temporal call has no deadline")
		})
	}
}

func TestListWorkflowsAnswer(t *testing.T) {
	fake := &fakeTemporal{executions: []*fakeExecution{
		{workflowID: "sleep-1", runID: "01a2110d-1b69-77ad-9897-000000000001", workflowType: "Sleep", taskQueue: defaultTaskQueue,
			status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, historyLength: 5},
		closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`"done"`))),
	}}
	rec := serve(newRouter(t, fake), newRequest(http.MethodGet, "/workflows", ""))

	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var raw struct {
		Executions []map[string]json.RawMessage `json:"executions"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	assert.NotContains(t, rec.Body.String(), "nextPageToken", "the last page has a next page")
	var list gen.ExecutionList
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	require.Len(t, list.Executions, 2)
	require.Len(t, raw.Executions, 2)

	running, completed := list.Executions[0], list.Executions[1]
	assert.Equal(t, "sleep-1", running.WorkflowId)
	assert.Equal(t, "01a2110d-1b69-77ad-9897-000000000001", running.RunId)
	assert.Equal(t, "Sleep", running.WorkflowType)
	assert.Equal(t, defaultTaskQueue, running.TaskQueue)
	assert.Equal(t, gen.ExecutionStatusRUNNING, running.Status)
	assert.Equal(t, ptr(int64(5)), running.HistoryLength)
	assert.True(t, fakeStartTime.Equal(deref(running.StartTime)), "startTime %v", running.StartTime)
	assert.Nil(t, running.CloseTime)

	assert.Equal(t, "greeting-ada", completed.WorkflowId)
	assert.Equal(t, gen.ExecutionStatusCOMPLETED, completed.Status)
	assert.NotNil(t, completed.CloseTime)
	for i := range raw.Executions {
		// A list answers from visibility; what a run ended with takes a read of the run.
		assert.NotContains(t, raw.Executions[i], "result")
		assert.NotContains(t, raw.Executions[i], "failure")
	}
	assert.Empty(t, fake.historyCalls(), "a list read histories")
	assert.Empty(t, fake.describeCalls(), "a list described runs")
}

func TestListWorkflowsEmptyIsAnEmptyArray(t *testing.T) {
	rec := serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodGet, "/workflows", ""))

	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	assert.JSONEq(t, `{"executions":[]}`, rec.Body.String())
}

func TestListWorkflowsPageSize(t *testing.T) {
	tests := []struct {
		params url.Values
		want   int32
	}{
		{nil, 100},
		{url.Values{"pageSize": {"2"}}, 2},
		{url.Values{"pageSize": {"1"}}, 1},
		{url.Values{"pageSize": {"1000"}}, 1000},
	}
	for _, tt := range tests {
		t.Run(listTarget(tt.params), func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, listTarget(tt.params), ""))

			require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
			calls := fake.listCalls()
			require.Len(t, calls, 1)
			assert.Equal(t, tt.want, calls[0].pageSize)
		})
	}
}

// tokenBytes is a page token whose standard base64 has '+', '/' and padding: none of them may
// reach a client, who puts the token in a query string as it is.
var tokenBytes = []byte{0xfb, 0xff, 0xbf, 0x00, 'p', 'a', 'g', 'e'}

func TestListWorkflowsPageTokenRoundTrip(t *testing.T) {
	fake := &fakeTemporal{listNextPageToken: tokenBytes}
	h := newRouter(t, fake)

	first := serve(h, newRequest(http.MethodGet, "/workflows?status=COMPLETED&pageSize=2", ""))
	require.Equal(t, http.StatusOK, first.Code, "body: %s", first.Body)
	var list gen.ExecutionList
	require.NoError(t, json.Unmarshal(first.Body.Bytes(), &list))
	require.NotNil(t, list.NextPageToken, "body: %s", first.Body)
	token := *list.NextPageToken
	assert.NotContains(t, token, "+")
	assert.NotContains(t, token, "/")
	assert.NotContains(t, token, "=")

	second := serve(h, newRequest(http.MethodGet, "/workflows?status=COMPLETED&pageSize=2&pageToken="+token, ""))
	require.Equal(t, http.StatusOK, second.Code, "body: %s", second.Body)
	calls := fake.listCalls()
	require.Len(t, calls, 2)
	assert.Nil(t, calls[0].token, "the first page was asked for with a token")
	assert.Equal(t, tokenBytes, calls[1].token)
	assert.Equal(t, calls[0].query, calls[1].query)
	assert.Equal(t, int32(2), calls[1].pageSize)
}

func TestListWorkflowsInvalid(t *testing.T) {
	tests := []struct {
		name   string
		params url.Values
		want   fieldRef
	}{
		{"page token not base64url", url.Values{"pageToken": {"not a token!"}}, fieldRef{gen.FieldErrorInQuery, "pageToken"}},
		{"page token in standard base64", url.Values{"pageToken": {base64.StdEncoding.EncodeToString(tokenBytes)}},
			fieldRef{gen.FieldErrorInQuery, "pageToken"}},
		{"page token of a lone character", url.Values{"pageToken": {"A"}}, fieldRef{gen.FieldErrorInQuery, "pageToken"}},
		{"page token made up", url.Values{"pageToken": {base64.RawURLEncoding.EncodeToString([]byte("a token made up"))}},
			fieldRef{gen.FieldErrorInQuery, "pageToken"}},
		{"page token of Temporal's without the gateway's checksum", url.Values{"pageToken": {base64.RawURLEncoding.EncodeToString(tokenBytes)}},
			fieldRef{gen.FieldErrorInQuery, "pageToken"}},
		{"unknown status", url.Values{"status": {"DONE"}}, fieldRef{gen.FieldErrorInQuery, "status"}},
		{"status in Temporal's spelling", url.Values{"status": {"Completed"}}, fieldRef{gen.FieldErrorInQuery, "status"}},
		{"page size 0", url.Values{"pageSize": {"0"}}, fieldRef{gen.FieldErrorInQuery, "pageSize"}},
		{"page size 1001", url.Values{"pageSize": {"1001"}}, fieldRef{gen.FieldErrorInQuery, "pageSize"}},
		{"page size not a number", url.Values{"pageSize": {"ten"}}, fieldRef{gen.FieldErrorInQuery, "pageSize"}},
		{"started after not a time", url.Values{"startedAfter": {"yesterday"}}, fieldRef{gen.FieldErrorInQuery, "startedAfter"}},
		{"started before without a zone", url.Values{"startedBefore": {"2025-03-14T15:09:26"}}, fieldRef{gen.FieldErrorInQuery, "startedBefore"}},
		{"workflow type too long", url.Values{"workflowType": {strings.Repeat("x", 1001)}}, fieldRef{gen.FieldErrorInQuery, "workflowType"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, listTarget(tt.params), ""))

			p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
			assert.Equal(t, []fieldRef{tt.want}, fieldRefs(t, p))
			assert.Empty(t, fake.listCalls(), "an invalid request reached Temporal")
		})
	}
}

// firstListToken answers the nextPageToken of the first page of GET target.
func firstListToken(t *testing.T, h http.Handler, target string) string {
	t.Helper()
	rec := serve(h, newRequest(http.MethodGet, target, ""))
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	var list gen.ExecutionList
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	require.NotNil(t, list.NextPageToken, "body: %s", rec.Body)
	return *list.NextPageToken
}

func TestListWorkflowsTokenOfAnotherListing(t *testing.T) {
	fake := &fakeTemporal{listNextPageToken: tokenBytes}
	h := newRouter(t, fake)
	token := firstListToken(t, h, "/workflows?status=RUNNING")

	rec := serve(h, newRequest(http.MethodGet, "/workflows?status=FAILED&pageToken="+token, ""))

	p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
	assert.Equal(t, []fieldRef{{gen.FieldErrorInQuery, "pageToken"}}, fieldRefs(t, p))
	assert.Len(t, fake.listCalls(), 1, "a token of another listing reached Temporal")
}

func TestListWorkflowsTokenRejectedByTemporal(t *testing.T) {
	fake := &fakeTemporal{listNextPageToken: tokenBytes}
	h := newRouter(t, fake)
	token := firstListToken(t, h, "/workflows?workflowType=Echo")
	// The token is one the gateway handed out, yet Temporal no longer takes it.
	fake.mu.Lock()
	fake.listErr = serviceerror.NewInvalidArgument(secret + ": invalid page token")
	fake.mu.Unlock()

	rec := serve(h, newRequest(http.MethodGet, "/workflows?workflowType=Echo&pageToken="+token, ""))

	p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
	assert.Equal(t, []fieldRef{{gen.FieldErrorInQuery, "pageToken"}}, fieldRefs(t, p))
	calls := fake.listCalls()
	require.Len(t, calls, 2)
	assert.Equal(t, tokenBytes, calls[1].token)
}

func TestListWorkflowsTemporalErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantType string
	}{
		{"unavailable", serviceerror.NewUnavailable(secret + ": connection refused"), "urn:temporal-http:problem:temporal-unavailable"},
		{"deadline exceeded", serviceerror.NewDeadlineExceeded(secret + ": context deadline exceeded"), "urn:temporal-http:problem:temporal-unavailable"},
		// Every value in the query is the caller's, quoted, so a refusal is of a value (such as a
		// time beyond what Temporal stores): the caller's fault, as on every route.
		{"query refused", serviceerror.NewInvalidArgument(secret + ": invalid query"), "urn:temporal-http:problem:refused-by-temporal"},
		{"internal", serviceerror.NewInternal(secret + ": visibility store down"), "urn:temporal-http:problem:internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{listErr: tt.err}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, "/workflows?workflowType=Echo", ""))

			requireProblem(t, rec, tt.wantType)
			if rec.Code == http.StatusServiceUnavailable {
				assert.Equal(t, "2", rec.Header().Get("Retry-After"))
			}
		})
	}
}

// historyRun is a completed run of greeting-ada whose history has n events, the first its start
// and the last its completion.
func historyRun(n int) *fakeExecution {
	e := closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`"done"`)))
	for i := 1; i <= n; i++ {
		event := &historypb.HistoryEvent{
			EventId:   int64(i),
			EventTime: timestamppb.New(fakeStartTime.Add(time.Duration(i) * time.Second)),
			EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{
				WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{Attempt: 1},
			},
		}
		switch i {
		case 1:
			event.EventType = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
			event.Attributes = &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
				WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
					WorkflowType: &commonpb.WorkflowType{Name: "Greeting"},
					Input:        jsonPayloads(`{"name":"Ada"}`),
				},
			}
		case n:
			event.EventType = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
			event.Attributes = completedEvent(jsonPayloads(`"done"`)).Attributes
		}
		e.events = append(e.events, event)
	}
	return e
}

// historyEvent is the part of a rendered event the tests read.
type historyEvent struct {
	EventID   string          `json:"eventId"` // protojson renders 64-bit integers as strings
	EventTime time.Time       `json:"eventTime"`
	EventType string          `json:"eventType"`
	Started   json.RawMessage `json:"workflowExecutionStartedEventAttributes"`
}

func decodeHistory(t *testing.T, body []byte) ([]historyEvent, *string) {
	t.Helper()
	var page gen.HistoryPage
	require.NoError(t, json.Unmarshal(body, &page), "body: %s", body)
	events := make([]historyEvent, len(page.Events))
	for i, raw := range page.Events {
		var obj map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &obj), "event %d is not a JSON object: %s", i, raw)
		require.NoError(t, json.Unmarshal(raw, &events[i]))
	}
	return events, page.NextPageToken
}

func withNamespace(o *handlers.Options) { o.Namespace = "ns-1" }

func TestGetWorkflowHistoryEvents(t *testing.T) {
	fake := &fakeTemporal{executions: []*fakeExecution{historyRun(3)}}
	rec := serve(newRouter(t, fake, withNamespace), newRequest(http.MethodGet, "/workflows/greeting-ada/history", ""))

	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	events, next := decodeHistory(t, rec.Body.Bytes())
	assert.Nil(t, next, "one page holds the whole history")
	require.Len(t, events, 3)
	assert.Equal(t, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", events[0].EventType)
	assert.Equal(t, "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED", events[1].EventType)
	assert.Equal(t, "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED", events[2].EventType)
	for i, e := range events {
		assert.Equal(t, strconv.Itoa(i+1), e.EventID)
		assert.True(t, fakeStartTime.Add(time.Duration(i+1)*time.Second).Equal(e.EventTime), "eventTime %v", e.EventTime)
	}
	var started struct {
		WorkflowType struct{ Name string } `json:"workflowType"`
	}
	require.NoError(t, json.Unmarshal(events[0].Started, &started), "started attributes: %s", events[0].Started)
	assert.Equal(t, "Greeting", started.WorkflowType.Name)

	assert.Equal(t, []pageCall{{
		namespace: "ns-1", workflowID: "greeting-ada", pageSize: 100,
		filter: enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT, hasDeadline: true,
	}}, fake.pageCalls())
}

func TestGetWorkflowHistoryDefaultNamespace(t *testing.T) {
	fake := &fakeTemporal{executions: []*fakeExecution{historyRun(3)}}
	rec := serve(newRouter(t, fake), newRequest(http.MethodGet, "/workflows/greeting-ada/history", ""))

	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	calls := fake.pageCalls()
	require.Len(t, calls, 1)
	assert.Equal(t, "default", calls[0].namespace)
}

func TestGetWorkflowHistoryPages(t *testing.T) {
	fake := &fakeTemporal{executions: []*fakeExecution{historyRun(5)}}
	h := newRouter(t, fake, withNamespace)

	var eventIDs []string
	target := "/workflows/greeting-ada/history?runId=" + url.QueryEscape("01a2110d-1b69-77ad-9897-000000000001") + "&pageSize=2"
	next := target
	for page := 0; ; page++ {
		require.Less(t, page, 10, "paging does not end")
		rec := serve(h, newRequest(http.MethodGet, next, ""))
		require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
		events, token := decodeHistory(t, rec.Body.Bytes())
		assert.LessOrEqual(t, len(events), 2)
		for _, e := range events {
			eventIDs = append(eventIDs, e.EventID)
		}
		if token == nil {
			break
		}
		next = target + "&pageToken=" + *token
	}
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, eventIDs)

	calls := fake.pageCalls()
	require.Len(t, calls, 3)
	for i, want := range [][]byte{nil, []byte("offset:2"), []byte("offset:4")} {
		assert.Equal(t, want, calls[i].token, "call %d", i)
		assert.Equal(t, "01a2110d-1b69-77ad-9897-000000000001", calls[i].runID)
		assert.Equal(t, int32(2), calls[i].pageSize)
	}
}

func TestGetWorkflowHistoryErrors(t *testing.T) {
	forged := base64.RawURLEncoding.EncodeToString([]byte("forged"))
	tests := []struct {
		name      string
		target    string
		pageErr   error
		wantType  string
		wantField *fieldRef
		wantCall  bool
	}{
		{"unknown execution", "/workflows/no-such-id/history", nil, "urn:temporal-http:problem:workflow-not-found", nil, true},
		{"unknown run", "/workflows/greeting-ada/history?runId=7d8b6c1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e", nil,
			"urn:temporal-http:problem:workflow-not-found", nil, true},
		{"page token not base64url", "/workflows/greeting-ada/history?pageToken=%2B%2F%3D", nil,
			"urn:temporal-http:problem:validation", &fieldRef{gen.FieldErrorInQuery, "pageToken"}, false},
		{"page token made up", "/workflows/greeting-ada/history?pageToken=" + forged, nil,
			"urn:temporal-http:problem:validation", &fieldRef{gen.FieldErrorInQuery, "pageToken"}, false},
		{"page size 0", "/workflows/greeting-ada/history?pageSize=0", nil,
			"urn:temporal-http:problem:validation", &fieldRef{gen.FieldErrorInQuery, "pageSize"}, false},
		{"page size 1001", "/workflows/greeting-ada/history?pageSize=1001", nil,
			"urn:temporal-http:problem:validation", &fieldRef{gen.FieldErrorInQuery, "pageSize"}, false},
		{"unavailable", "/workflows/greeting-ada/history", serviceerror.NewUnavailable(secret + ": connection refused"),
			"urn:temporal-http:problem:temporal-unavailable", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: []*fakeExecution{historyRun(3)}, pageErr: tt.pageErr}
			rec := serve(newRouter(t, fake, withNamespace), newRequest(http.MethodGet, tt.target, ""))

			p := requireProblem(t, rec, tt.wantType)
			if tt.wantField != nil {
				assert.Equal(t, []fieldRef{*tt.wantField}, fieldRefs(t, p))
			}
			if rec.Code == http.StatusNotFound {
				u, err := url.Parse(tt.target)
				require.NoError(t, err)
				if assert.NotNil(t, p.WorkflowId) {
					assert.Equal(t, strings.Split(u.Path, "/")[2], *p.WorkflowId)
				}
			}
			if tt.wantCall {
				assert.Len(t, fake.pageCalls(), 1)
			} else {
				assert.Empty(t, fake.pageCalls(), "an invalid request reached Temporal")
			}
		})
	}
}

func TestGetWorkflowHistoryTokens(t *testing.T) {
	second := func(t *testing.T, h http.Handler) string {
		t.Helper()
		rec := serve(h, newRequest(http.MethodGet, "/workflows/greeting-ada/history?pageSize=2", ""))
		require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
		_, token := decodeHistory(t, rec.Body.Bytes())
		require.NotNil(t, token)
		return *token
	}

	t.Run("of another workflow", func(t *testing.T) {
		other := historyRun(5)
		other.workflowID = "greeting-bob"
		fake := &fakeTemporal{executions: []*fakeExecution{historyRun(5), other}}
		h := newRouter(t, fake, withNamespace)
		token := second(t, h)

		rec := serve(h, newRequest(http.MethodGet, "/workflows/greeting-bob/history?pageSize=2&pageToken="+token, ""))

		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Equal(t, []fieldRef{{gen.FieldErrorInQuery, "pageToken"}}, fieldRefs(t, p))
		assert.Len(t, fake.pageCalls(), 1, "a token of another workflow reached Temporal")
	})

	t.Run("rejected by Temporal", func(t *testing.T) {
		fake := &fakeTemporal{executions: []*fakeExecution{historyRun(5)}}
		h := newRouter(t, fake, withNamespace)
		token := second(t, h)
		fake.mu.Lock()
		fake.pageErr = serviceerror.NewInvalidArgument(secret + ": invalid NextPageToken")
		fake.mu.Unlock()

		rec := serve(h, newRequest(http.MethodGet, "/workflows/greeting-ada/history?pageSize=2&pageToken="+token, ""))

		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Equal(t, []fieldRef{{gen.FieldErrorInQuery, "pageToken"}}, fieldRefs(t, p))
		calls := fake.pageCalls()
		require.Len(t, calls, 2)
		assert.Equal(t, []byte("offset:2"), calls[1].token)
	})
}

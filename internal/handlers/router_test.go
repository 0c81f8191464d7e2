package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/temporalhttp/gateway/api"
	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
)

const (
	defaultTaskQueue = "gateway-default"
	// bigInt does not fit a float64: a body decoded into interface{} and re-encoded loses digits.
	bigInt = "123456789012345678901234567890"
)

var workflowTypes = []handlers.WorkflowType{
	{Name: "Greeting", Description: "Greets."}, {Name: "Echo", Description: "Echoes."}, {Name: "Sleep", Description: "Sleeps."},
	{Name: "MoneyTransfer", Description: "Moves money."}, {Name: "CronCounter", Description: "Counts."}, {Name: "Approval", Description: "Approves."},
}

// newRouter builds the full router (validator included) over fake; opts adjust the defaults.
func newRouter(t testing.TB, fake handlers.TemporalClient, opts ...func(*handlers.Options)) http.Handler {
	t.Helper()
	o := handlers.Options{
		Client:          fake,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		TaskQueue:       defaultTaskQueue,
		WorkflowTypes:   workflowTypes,
		MaxBodyBytes:    2 << 20,
		MaxWait:         time.Minute,
		ClosedCacheSize: 100,
		TemporalTimeout: 5 * time.Second,
		RetryAfter:      2 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	h, err := handlers.NewRouter(o)
	require.NoError(t, err)
	return h
}

// newRequest makes a request; a body is sent as application/json.
func newRequest(method, target, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// problemKinds are the problem types a client can tell apart, with the status and title of each.
var problemKinds = map[string]struct {
	status int
	title  string
}{
	"urn:temporal-http:problem:validation":               {http.StatusBadRequest, "Invalid request"},
	"urn:temporal-http:problem:malformed-json":           {http.StatusBadRequest, "Malformed JSON"},
	"urn:temporal-http:problem:not-found":                {http.StatusNotFound, "Not found"},
	"urn:temporal-http:problem:workflow-not-found":       {http.StatusNotFound, "Workflow execution not found"},
	"urn:temporal-http:problem:schedule-not-found":       {http.StatusNotFound, "Schedule not found"},
	"urn:temporal-http:problem:schedule-exists":          {http.StatusConflict, "Schedule exists"},
	"urn:temporal-http:problem:schedule-changed":         {http.StatusPreconditionFailed, "Schedule changed"},
	"urn:temporal-http:problem:if-match-required":        {http.StatusPreconditionRequired, "If-Match required"},
	"urn:temporal-http:problem:unknown-time-zone":        {http.StatusUnprocessableEntity, "Unknown time zone"},
	"urn:temporal-http:problem:method-not-allowed":       {http.StatusMethodNotAllowed, "Method not allowed"},
	"urn:temporal-http:problem:workflow-already-started": {http.StatusConflict, "Workflow already started"},
	"urn:temporal-http:problem:payload-too-large":        {http.StatusRequestEntityTooLarge, "Payload too large"},
	"urn:temporal-http:problem:unsupported-media-type":   {http.StatusUnsupportedMediaType, "Unsupported media type"},
	"urn:temporal-http:problem:unknown-workflow-type":    {http.StatusUnprocessableEntity, "Unknown workflow type"},
	"urn:temporal-http:problem:invalid-input":            {http.StatusUnprocessableEntity, "Invalid workflow input"},
	"urn:temporal-http:problem:temporal-unavailable":     {http.StatusServiceUnavailable, "Temporal unavailable"},
	"urn:temporal-http:problem:internal":                 {http.StatusInternalServerError, "Internal error"},
	"urn:temporal-http:problem:workflow-closed":          {http.StatusConflict, "Workflow execution closed"},
	"urn:temporal-http:problem:rejected-by-workflow":     {http.StatusUnprocessableEntity, "Rejected by the workflow"},
	"urn:temporal-http:problem:no-worker":                {http.StatusGatewayTimeout, "No worker answered"},
	"urn:temporal-http:problem:idempotency-key-reused":   {http.StatusUnprocessableEntity, "Idempotency key reused"},
	"urn:temporal-http:problem:refused-by-temporal":      {http.StatusBadRequest, "Refused by Temporal"},
	"urn:temporal-http:problem:request-timeout":          {http.StatusRequestTimeout, "Request timeout"},
	"urn:temporal-http:problem:unauthorized":             {http.StatusUnauthorized, "Unauthorized"},
	"urn:temporal-http:problem:forbidden":                {http.StatusForbidden, "Forbidden"},
	"urn:temporal-http:problem:rate-limited":             {http.StatusTooManyRequests, "Too many requests"},
	"urn:temporal-http:problem:task-queue-not-allowed":   {http.StatusForbidden, "Task queue not allowed"},
	"urn:temporal-http:problem:idempotency-key-in-use":   {http.StatusConflict, "Idempotency key in use"},
	"urn:temporal-http:problem:misdirected-request":      {http.StatusMisdirectedRequest, "Misdirected request"},
	"urn:temporal-http:problem:too-many-waits":           {http.StatusTooManyRequests, "Too many waits"},
	"urn:temporal-http:problem:waits-exhausted":          {http.StatusServiceUnavailable, "Gateway busy"},
	"urn:temporal-http:problem:workflow-not-ready":       {http.StatusServiceUnavailable, "Workflow not ready"},
}

// internalTexts must never reach a client: the fake's error texts, and the marks of Go, gRPC and
// validator error strings.
var internalTexts = []string{
	secret, "rpc error", "serviceerror", ".go:", "goroutine", "panic", "Error at ", "request body has an error",
	"openapi3", "%!",
}

// requireProblem checks that rec is a problem+json answer of kind typ, that its type, title and
// status agree with the HTTP status, and that it leaks nothing internal; it returns the problem.
func requireProblem(t *testing.T, rec *httptest.ResponseRecorder, typ string) gen.Problem {
	t.Helper()
	kind, ok := problemKinds[typ]
	require.True(t, ok, "test names an unknown problem type %q", typ)
	require.Equal(t, kind.status, rec.Code, "body: %s", rec.Body)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	body := rec.Body.String()
	for _, s := range internalTexts {
		assert.NotContains(t, body, s, "a problem body carries internal text")
	}
	var p gen.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p), "body: %s", body)
	assert.Equal(t, typ, p.Type)
	assert.Equal(t, kind.title, p.Title)
	assert.Equal(t, rec.Code, p.Status)
	if assert.NotNil(t, p.Detail) {
		assert.NotEmpty(t, *p.Detail)
	}
	if assert.NotNil(t, p.RequestId) {
		assert.Equal(t, rec.Header().Get("X-Request-Id"), *p.RequestId)
	}
	return p
}

type fieldRef struct {
	in    gen.FieldErrorIn
	field string
}

// fieldRefs lists where each field error of p points, checking each says something.
func fieldRefs(t *testing.T, p gen.Problem) []fieldRef {
	t.Helper()
	if p.Errors == nil {
		return nil
	}
	var refs []fieldRef
	for _, e := range *p.Errors {
		assert.NotEmpty(t, e.Message, "field error %+v has no message", e)
		refs = append(refs, fieldRef{e.In, e.Field})
	}
	return refs
}

func decodeExecution(t *testing.T, rec *httptest.ResponseRecorder) (gen.Execution, map[string]json.RawMessage) {
	t.Helper()
	var exec gen.Execution
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &exec), "body: %s", rec.Body)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	return exec, raw
}

func jsonPayloads(data ...string) *commonpb.Payloads {
	p := &commonpb.Payloads{}
	for _, d := range data {
		p.Payloads = append(p.Payloads, &commonpb.Payload{
			Metadata: map[string][]byte{"encoding": []byte("json/plain")},
			Data:     []byte(d),
		})
	}
	return p
}

func completedEvent(result *commonpb.Payloads) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{
		EventId:   9,
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{
			WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{Result: result},
		},
	}
}

func failedEvent(f *failurepb.Failure) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{
		EventId:   9,
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{
			WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{Failure: f},
		},
	}
}

func insufficientFunds() *failurepb.Failure {
	return &failurepb.Failure{
		Message:    "insufficient funds",
		StackTrace: "bank/workflows.go:42 " + secret,
		FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{
			Type: "InsufficientFundsError", NonRetryable: true,
		}},
		Cause: &failurepb.Failure{
			Message: "balance 10 is below 100",
			FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{
				Type: "BalanceError",
			}},
		},
	}
}

func TestStartWorkflowCreated(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantID    string // "" means a generated UUID
		wantType  string
		wantQueue string
		wantArgs  []string // the raw JSON of each argument the workflow got
	}{
		{
			name:      "input passed byte for byte",
			body:      `{"workflowType":"MoneyTransfer","workflowId":"transfer-1","input":{"amount": ` + bigInt + `,  "price": 2.50, "note":"\u00e9"}}`,
			wantID:    "transfer-1",
			wantType:  "MoneyTransfer",
			wantQueue: defaultTaskQueue,
			wantArgs:  []string{`{"amount": ` + bigInt + `,  "price": 2.50, "note":"\u00e9"}`},
		},
		{
			name:      "bare big integer input",
			body:      `{"workflowType":"Echo","workflowId":"echo-1","input":` + bigInt + `}`,
			wantID:    "echo-1",
			wantType:  "Echo",
			wantQueue: defaultTaskQueue,
			wantArgs:  []string{bigInt},
		},
		{
			name:      "string input",
			body:      `{"workflowType":"Greeting","workflowId":"greeting-ada","input":"Ada"}`,
			wantID:    "greeting-ada",
			wantType:  "Greeting",
			wantQueue: defaultTaskQueue,
			wantArgs:  []string{`"Ada"`},
		},
		{
			name:      "no input means no arguments",
			body:      `{"workflowType":"Sleep","workflowId":"sleep-1"}`,
			wantID:    "sleep-1",
			wantType:  "Sleep",
			wantQueue: defaultTaskQueue,
		},
		{
			name:      "null input means no arguments",
			body:      `{"workflowType":"Sleep","workflowId":"sleep-2","input":null}`,
			wantID:    "sleep-2",
			wantType:  "Sleep",
			wantQueue: defaultTaskQueue,
		},
		{
			name:      "generated id",
			body:      `{"workflowType":"Greeting","input":{"name":"Ada"}}`,
			wantType:  "Greeting",
			wantQueue: defaultTaskQueue,
			wantArgs:  []string{`{"name":"Ada"}`},
		},
		{
			name:      "task queue named in the body",
			body:      `{"workflowType":"Greeting","workflowId":"greeting-q","taskQueue":"other-queue"}`,
			wantID:    "greeting-q",
			wantType:  "Greeting",
			wantQueue: "other-queue",
		},
		{
			name:      "id escaped in Location",
			body:      `{"workflowType":"Greeting","workflowId":"order 7/1?x"}`,
			wantID:    "order 7/1?x",
			wantType:  "Greeting",
			wantQueue: defaultTaskQueue,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			h := newRouter(t, fake, func(o *handlers.Options) { o.TaskQueues = []string{"other-queue"} })
			rec := serve(h, newRequest(http.MethodPost, "/workflows", tt.body))

			require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
			starts := fake.startCalls()
			require.Len(t, starts, 1)
			got := starts[0]
			if tt.wantID == "" {
				_, err := uuid.Parse(got.options.ID)
				assert.NoError(t, err, "generated id %q is not a UUID", got.options.ID)
			} else {
				assert.Equal(t, tt.wantID, got.options.ID)
			}
			assert.True(t, got.options.WorkflowExecutionErrorWhenAlreadyStarted)
			assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, got.options.WorkflowIDConflictPolicy)
			assert.Equal(t, tt.wantQueue, got.options.TaskQueue)
			assert.Equal(t, tt.wantType, got.workflow)
			assert.True(t, got.hasDeadline, "the Temporal call has no deadline")
			require.Len(t, got.args, len(tt.wantArgs))
			for i, want := range tt.wantArgs {
				raw, ok := got.args[i].(json.RawMessage)
				require.True(t, ok, "argument %d is a %T, not json.RawMessage", i, got.args[i])
				assert.Equal(t, want, string(raw))
			}

			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "/workflows/"+url.PathEscape(got.options.ID)+"?runId=01a2110d-1b69-77ad-9897-000000000001", rec.Header().Get("Location"))
			exec, raw := decodeExecution(t, rec)
			assert.Equal(t, got.options.ID, exec.WorkflowId)
			assert.Equal(t, "01a2110d-1b69-77ad-9897-000000000001", exec.RunId)
			assert.Equal(t, tt.wantType, exec.WorkflowType)
			assert.Equal(t, tt.wantQueue, exec.TaskQueue)
			assert.Equal(t, gen.ExecutionStatusRUNNING, exec.Status)
			assert.Empty(t, fake.describeCalls(), "the 201 is what the start knows: one Temporal call")
			for _, absent := range []string{"result", "failure", "closeTime", "startTime", "historyLength"} {
				assert.NotContains(t, raw, absent)
			}
			assert.Empty(t, fake.historyCalls(), "a running execution's history was read")
		})
	}
}

func TestStartWorkflowOptions(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, o startCall)
	}{
		{
			name: "timeouts and start delay",
			body: `{"workflowType":"Sleep","executionTimeout":"90s","runTimeout":"1m30s","startDelay":"1.5h"}`,
			check: func(t *testing.T, c startCall) {
				assert.Equal(t, 90*time.Second, c.options.WorkflowExecutionTimeout)
				assert.Equal(t, 90*time.Second, c.options.WorkflowRunTimeout)
				assert.Equal(t, 90*time.Minute, c.options.StartDelay)
			},
		},
		{
			name: "terminate existing",
			body: `{"workflowType":"Sleep","idConflictPolicy":"TERMINATE_EXISTING"}`,
			check: func(t *testing.T, c startCall) {
				assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING, c.options.WorkflowIDConflictPolicy)
			},
		},
		{
			name: "reuse policy",
			body: `{"workflowType":"Sleep","idReusePolicy":"REJECT_DUPLICATE"}`,
			check: func(t *testing.T, c startCall) {
				assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, c.options.WorkflowIDReusePolicy)
			},
		},
		{
			name: "cron schedule",
			body: `{"workflowType":"CronCounter","cronSchedule":"*/5 * * * *"}`,
			check: func(t *testing.T, c startCall) {
				assert.Equal(t, "*/5 * * * *", c.options.CronSchedule)
			},
		},
		{
			name: "memo",
			body: `{"workflowType":"Greeting","memo":{"owner":"ada","n":` + bigInt + `}}`,
			check: func(t *testing.T, c startCall) {
				assert.Equal(t, map[string]any{
					"owner": json.RawMessage(`"ada"`),
					"n":     json.RawMessage(bigInt),
				}, c.options.Memo)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows", tt.body))

			require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
			starts := fake.startCalls()
			require.Len(t, starts, 1)
			tt.check(t, starts[0])
		})
	}
}

func TestStartWorkflowIDTaken(t *testing.T) {
	tests := []struct {
		name           string
		policy         string // "" sends none
		existingStatus enumspb.WorkflowExecutionStatus
		existingClose  *historypb.HistoryEvent
		wantStatus     int
	}{
		{"use existing, running", "USE_EXISTING", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil, http.StatusOK},
		{"use existing, closed, and not to be reused", "USE_EXISTING", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`"done"`)), http.StatusConflict},
		{"default policy, running", "", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil, http.StatusConflict},
		{"fail policy, running", "FAIL", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{
				executions: []*fakeExecution{{
					workflowID: "greeting-ada", runID: "run-existing", workflowType: "Greeting", taskQueue: defaultTaskQueue,
					status: tt.existingStatus, historyLength: 7, closeEvent: tt.existingClose,
				}},
			}
			if tt.wantStatus == http.StatusConflict {
				// As Temporal answers FAIL on a running run, or any policy on a closed run whose id
				// may not be reused.
				fake.startErr = serviceerror.NewWorkflowExecutionAlreadyStarted(secret+": workflow execution already started", "request-1", "run-existing")
			}
			body := `{"workflowType":"Greeting","workflowId":"greeting-ada","input":{"name":"Ada"}`
			if tt.policy != "" {
				body += `,"idConflictPolicy":"` + tt.policy + `"`
			}
			rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows", body+`}`))

			require.Len(t, fake.startCalls(), 1)
			if tt.wantStatus == http.StatusOK {
				require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
				assert.Equal(t, "/workflows/greeting-ada?runId=run-existing", rec.Header().Get("Location"))
				exec, _ := decodeExecution(t, rec)
				assert.Equal(t, "greeting-ada", exec.WorkflowId)
				assert.Equal(t, "run-existing", exec.RunId)
				assert.Equal(t, gen.ExecutionStatusRUNNING, exec.Status)
				assert.Equal(t, ptr(int64(7)), exec.HistoryLength)
				assert.Contains(t, fake.describeCalls(), runCall{"greeting-ada", "run-existing"})
				return
			}
			p := requireProblem(t, rec, "urn:temporal-http:problem:workflow-already-started")
			if assert.NotNil(t, p.WorkflowId) {
				assert.Equal(t, "greeting-ada", *p.WorkflowId)
			}
			if assert.NotNil(t, p.RunId) {
				assert.Equal(t, "run-existing", *p.RunId)
			}
		})
	}
}

func TestStartWorkflowBadRequest(t *testing.T) {
	body := gen.FieldErrorInBody
	tests := []struct {
		name       string
		body       string
		wantType   string
		wantFields []fieldRef
	}{
		{name: "malformed JSON", body: `{"workflowType":`, wantType: "urn:temporal-http:problem:malformed-json"},
		{name: "trailing garbage", body: `{"workflowType":"Greeting"} x`, wantType: "urn:temporal-http:problem:malformed-json"},
		{
			name: "missing workflowType", body: `{"input":1}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "workflowType"}},
		},
		{
			name: "empty workflowType", body: `{"workflowType":""}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "workflowType"}},
		},
		{
			name: "workflowType not a string", body: `{"workflowType":42}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "workflowType"}},
		},
		{
			name: "unknown field", body: `{"workflowType":"Greeting","workflowID":"greeting-ada"}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "workflowID"}},
		},
		{
			name: "bad idConflictPolicy", body: `{"workflowType":"Greeting","idConflictPolicy":"SOMETIMES"}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "idConflictPolicy"}},
		},
		{
			name: "bad idReusePolicy", body: `{"workflowType":"Greeting","idReusePolicy":"NEVER"}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "idReusePolicy"}},
		},
		{
			name: "bad duration format", body: `{"workflowType":"Greeting","executionTimeout":"ten seconds"}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "executionTimeout"}},
		},
		{
			name: "zero duration", body: `{"workflowType":"Greeting","runTimeout":"0s"}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "runTimeout"}},
		},
		{
			name: "bad cronSchedule", body: `{"workflowType":"CronCounter","cronSchedule":"every tuesday"}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "cronSchedule"}},
		},
		{
			name: "cronSchedule with startDelay", body: `{"workflowType":"CronCounter","cronSchedule":"@every 1m","startDelay":"10s"}`,
			wantType: "urn:temporal-http:problem:validation", wantFields: []fieldRef{{body, "startDelay"}},
		},
		{
			name: "handler checks name every invalid field", body: `{"workflowType":"CronCounter","cronSchedule":"nope","executionTimeout":"0s","startDelay":"0s"}`,
			wantType: "urn:temporal-http:problem:validation",
			wantFields: []fieldRef{
				{body, "cronSchedule"}, {body, "startDelay"}, {body, "executionTimeout"}, {body, "startDelay"},
			},
		},
		{
			name: "schema checks name every invalid field", body: `{"idConflictPolicy":"SOMETIMES","bogus":true,"runTimeout":"soon"}`,
			wantType: "urn:temporal-http:problem:validation",
			wantFields: []fieldRef{
				{body, "workflowType"}, {body, "idConflictPolicy"}, {body, "bogus"}, {body, "runTimeout"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows", tt.body))

			p := requireProblem(t, rec, tt.wantType)
			assert.ElementsMatch(t, tt.wantFields, fieldRefs(t, p))
			assert.Empty(t, fake.startCalls(), "an invalid request reached Temporal")
		})
	}
}

func TestGetWorkflowBadParameter(t *testing.T) {
	tests := []struct {
		name      string
		target    string
		wantField fieldRef
	}{
		{"empty runId", "/workflows/greeting-ada?runId=", fieldRef{gen.FieldErrorInQuery, "runId"}},
		{"runId too long", "/workflows/greeting-ada?runId=" + strings.Repeat("r", 256), fieldRef{gen.FieldErrorInQuery, "runId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, tt.target, ""))

			p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
			assert.Equal(t, []fieldRef{tt.wantField}, fieldRefs(t, p))
			assert.Empty(t, fake.describeCalls())
		})
	}
}

func TestNotFound(t *testing.T) {
	tests := []struct {
		name      string
		target    string
		wantType  string
		wantWFID  string
		wantRunID string
	}{
		{"unknown workflow", "/workflows/nope", "urn:temporal-http:problem:workflow-not-found", "nope", ""},
		{"unknown run", "/workflows/greeting-ada?runId=01a2110d-1b69-77ad-9897-00000000dead", "urn:temporal-http:problem:workflow-not-found", "greeting-ada", "01a2110d-1b69-77ad-9897-00000000dead"},
		{"unknown path", "/nope", "urn:temporal-http:problem:not-found", "", ""},
		{"unknown path below a workflow", "/workflows/greeting-ada/children", "urn:temporal-http:problem:not-found", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: []*fakeExecution{{
				workflowID: "greeting-ada", runID: "01a2110d-1b69-77ad-9897-000000000001", workflowType: "Greeting", taskQueue: defaultTaskQueue,
				status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
			}}}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, tt.target, ""))

			p := requireProblem(t, rec, tt.wantType)
			if tt.wantWFID == "" {
				assert.Nil(t, p.WorkflowId)
			} else if assert.NotNil(t, p.WorkflowId) {
				assert.Equal(t, tt.wantWFID, *p.WorkflowId)
			}
			if tt.wantRunID == "" {
				assert.Nil(t, p.RunId)
			} else if assert.NotNil(t, p.RunId) {
				assert.Equal(t, tt.wantRunID, *p.RunId)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	tests := []struct {
		method, target, wantAllow string
	}{
		{http.MethodDelete, "/workflows", "GET, POST"},
		{http.MethodDelete, "/workflows/greeting-ada", "GET"},
		{http.MethodPost, "/healthz", "GET"},
		{http.MethodPut, "/openapi.yaml", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(tt.method, tt.target, ""))

			requireProblem(t, rec, "urn:temporal-http:problem:method-not-allowed")
			assert.Equal(t, tt.wantAllow, rec.Header().Get("Allow"))
		})
	}
}

func TestPayloadTooLarge(t *testing.T) {
	const limit = 256
	small := `{"workflowType":"Echo","input":"` + strings.Repeat("a", 100) + `"}`
	large := `{"workflowType":"Echo","input":"` + strings.Repeat("a", 1000) + `"}`
	tests := []struct {
		name       string
		body       string
		chunked    bool
		wantStatus int
	}{
		{"over the limit with Content-Length", large, false, http.StatusRequestEntityTooLarge},
		{"over the limit chunked", large, true, http.StatusRequestEntityTooLarge},
		{"under the limit with Content-Length", small, false, http.StatusCreated},
		{"under the limit chunked", small, true, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			h := newRouter(t, fake, func(o *handlers.Options) { o.MaxBodyBytes = limit })
			req := newRequest(http.MethodPost, "/workflows", tt.body)
			if tt.chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(strings.NewReader(tt.body))
			}
			rec := serve(h, req)

			if tt.wantStatus == http.StatusCreated {
				assert.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
				assert.Len(t, fake.startCalls(), 1)
				return
			}
			requireProblem(t, rec, "urn:temporal-http:problem:payload-too-large")
			assert.Empty(t, fake.startCalls())
		})
	}
}

// TestEveryPostRequiresJSON sends every POST of the contract as a browser may send it to another
// origin without a CORS preflight: with no body, or a text, form or multipart one. Each is a 415
// problem, and nothing reaches Temporal. A JSON body that is empty is a 400; {} is accepted.
func TestEveryPostRequiresJSON(t *testing.T) {
	spec, err := gen.GetSwagger()
	require.NoError(t, err)
	var targets []string
	typed := 0
	for path, item := range spec.Paths.Map() {
		if item.Post != nil {
			if _, ok := item.Post.Extensions["x-workflow-type"]; ok {
				typed++
			}
			targets = append(targets, strings.NewReplacer("{workflowId}", "approval-1", "{signalName}", "decision",
				"{queryType}", "status", "{updateName}", "approve", "{scheduleId}", "nightly").Replace(path))
		}
	}
	require.Len(t, targets, 6+typed+5, "the contract's POSTs: start, signal, query, update, cancel, terminate, "+
		"the typed starts, signals and updates, and a schedule's create, pause, unpause, trigger and backfill")
	require.NotZero(t, typed)
	tests := []struct {
		name, contentType, body string
		wantType                string // "" when the media type is accepted
	}{
		{"no body, no type", "", "", "urn:temporal-http:problem:unsupported-media-type"},
		{"JSON without a type", "", `{}`, "urn:temporal-http:problem:unsupported-media-type"},
		{"text/plain", "text/plain;charset=UTF-8", `{}`, "urn:temporal-http:problem:unsupported-media-type"},
		{"form", "application/x-www-form-urlencoded", `reason=x`, "urn:temporal-http:problem:unsupported-media-type"},
		{"multipart", "multipart/form-data; boundary=b", "--b--\r\n", "urn:temporal-http:problem:unsupported-media-type"},
		{"XML", "application/xml", `<x/>`, "urn:temporal-http:problem:unsupported-media-type"},
		{"a JSON look-alike", "application/jsonp", `{}`, "urn:temporal-http:problem:unsupported-media-type"},
		{"JSON, empty", "application/json", "", "urn:temporal-http:problem:validation"},
		{"JSON with a charset", "Application/JSON; charset=utf-8", `{"workflowType":"Greeting"}`, ""},
	}
	for _, target := range targets {
		for _, tt := range tests {
			t.Run(target+"/"+tt.name, func(t *testing.T) {
				fake := &fakeTemporal{executions: []*fakeExecution{runningRun()},
					queryResult: jsonPayload(`{}`), updateResult: jsonPayload(`{}`)}
				req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(tt.body))
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				rec := serve(newRouter(t, fake), req)
				if tt.wantType == "" {
					assert.NotEqual(t, http.StatusUnsupportedMediaType, rec.Code, "body: %s", rec.Body)
					return
				}
				requireProblem(t, rec, tt.wantType)
				assert.Empty(t, fake.startCalls(), "a start reached Temporal")
				assert.Empty(t, fake.lifecycle, "a lifecycle call reached Temporal")
				assert.Empty(t, fake.describeCalls(), "a read reached Temporal")
			})
		}
	}
}

func TestUnknownWorkflowType(t *testing.T) {
	tests := []struct {
		name       string
		allowAny   bool
		wantStatus int
	}{
		{"refused", false, http.StatusUnprocessableEntity},
		{"passed through when any type is allowed", true, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			h := newRouter(t, fake, func(o *handlers.Options) { o.AllowAnyWorkflowType = tt.allowAny })
			rec := serve(h, newRequest(http.MethodPost, "/workflows", `{"workflowType":"NotHosted","workflowId":"x"}`))

			if tt.wantStatus == http.StatusCreated {
				require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
				starts := fake.startCalls()
				require.Len(t, starts, 1)
				assert.Equal(t, "NotHosted", starts[0].workflow)
				return
			}
			p := requireProblem(t, rec, "urn:temporal-http:problem:unknown-workflow-type")
			if assert.NotNil(t, p.Detail) {
				assert.Contains(t, *p.Detail, "NotHosted")
				assert.Contains(t, *p.Detail, "GET /workflow-types")
			}
			assert.Empty(t, fake.startCalls())
		})
	}
}

// closedRun is a closed execution of greeting-ada whose close event is event.
func closedRun(status enumspb.WorkflowExecutionStatus, event *historypb.HistoryEvent) *fakeExecution {
	return &fakeExecution{
		workflowID: "greeting-ada", runID: "01a2110d-1b69-77ad-9897-000000000001", workflowType: "Greeting", taskQueue: defaultTaskQueue,
		status: status, historyLength: 11, closeEvent: event,
	}
}

func TestTemporalUnavailable(t *testing.T) {
	unavailable := serviceerror.NewUnavailable(secret + ": connection refused")
	completed := closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`"done"`)))
	tests := []struct {
		name   string
		fake   *fakeTemporal
		method string
		target string
		body   string
	}{
		{"start, unavailable", &fakeTemporal{startErr: unavailable}, http.MethodPost, "/workflows", `{"workflowType":"Greeting"}`},
		{"start, deadline exceeded", &fakeTemporal{startErr: context.DeadlineExceeded}, http.MethodPost, "/workflows", `{"workflowType":"Greeting"}`},
		{"start, wrapped deadline exceeded", &fakeTemporal{startErr: errors.Join(errors.New(secret), context.DeadlineExceeded)}, http.MethodPost, "/workflows", `{"workflowType":"Greeting"}`},
		{"get, unavailable", &fakeTemporal{describeErr: unavailable}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"get, deadline exceeded", &fakeTemporal{describeErr: context.DeadlineExceeded}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"get, history unavailable", &fakeTemporal{executions: []*fakeExecution{completed}, historyErr: unavailable}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"readyz, unavailable", &fakeTemporal{healthErr: unavailable}, http.MethodGet, "/readyz", ""},
		{"readyz, deadline exceeded", &fakeTemporal{healthErr: context.DeadlineExceeded}, http.MethodGet, "/readyz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(newRouter(t, tt.fake), newRequest(tt.method, tt.target, tt.body))

			requireProblem(t, rec, "urn:temporal-http:problem:temporal-unavailable")
			assert.Equal(t, "2", rec.Header().Get("Retry-After"))
		})
	}
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name             string
		target           string
		wantHealthChecks int
	}{
		{"liveness does not ask Temporal", "/healthz", 0},
		{"readiness asks Temporal", "/readyz", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, tt.target, ""))

			require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
			assert.Equal(t, tt.wantHealthChecks, fake.healthCheckCount())
		})
	}
}

// TestReadinessProbesShareOneHealthCheck: a flood of probes, healthy or not, costs Temporal one
// health check, whose result answers them all.
func TestReadinessProbesShareOneHealthCheck(t *testing.T) {
	tests := []struct {
		name       string
		healthErr  error
		wantStatus int
	}{
		{"ready", nil, http.StatusOK},
		{"not ready", serviceerror.NewUnavailable(secret), http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{healthErr: tt.healthErr}
			h := newRouter(t, fake)
			const probes = 100
			statuses := make(chan int, probes)
			for range probes {
				go func() { statuses <- serve(h, newRequest(http.MethodGet, "/readyz", "")).Code }()
			}
			for range probes {
				assert.Equal(t, tt.wantStatus, <-statuses)
			}
			// Within the second a result is kept, however the probes fell: one check.
			assert.Equal(t, 1, fake.healthCheckCount())
		})
	}
}

func TestInternalError(t *testing.T) {
	arbitrary := errors.New(secret + " xyz")
	noCloseEvent := closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, nil)
	unknownStatus := closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED, nil)
	completed := closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`"done"`)))
	start := `{"workflowType":"Greeting","workflowId":"greeting-ada"}`
	tests := []struct {
		name   string
		fake   *fakeTemporal
		method string
		target string
		body   string
	}{
		{"start fails", &fakeTemporal{startErr: arbitrary}, http.MethodPost, "/workflows", start},
		{"start fails with a gRPC-looking text", &fakeTemporal{startErr: errors.New("rpc error: code = Internal desc = " + secret)}, http.MethodPost, "/workflows", start},
		{"describe fails", &fakeTemporal{describeErr: arbitrary}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"describe fails with a service error", &fakeTemporal{describeErr: serviceerror.NewInternal(secret)}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"history fails", &fakeTemporal{executions: []*fakeExecution{completed}, historyErr: arbitrary}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"closed run without close event", &fakeTemporal{executions: []*fakeExecution{noCloseEvent}}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"unknown status", &fakeTemporal{executions: []*fakeExecution{unknownStatus}}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"start panics", &fakeTemporal{panicWith: secret + ": boom"}, http.MethodPost, "/workflows", start},
		{"describe panics", &fakeTemporal{panicWith: secret + ": boom"}, http.MethodGet, "/workflows/greeting-ada", ""},
		{"readyz panics with an error", &fakeTemporal{panicWith: errors.New(secret + ": boom")}, http.MethodGet, "/readyz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(newRouter(t, tt.fake), newRequest(tt.method, tt.target, tt.body))

			requireProblem(t, rec, "urn:temporal-http:problem:internal")
			assert.NotContains(t, rec.Body.String(), "boom")
			assert.Empty(t, rec.Header().Get("Retry-After"))
		})
	}
}

func TestGetWorkflow(t *testing.T) {
	tests := []struct {
		name        string
		execs       []*fakeExecution
		target      string
		wantRunID   string
		wantStatus  gen.ExecutionStatus
		wantResult  string // the exact JSON of result; "" when absent
		wantFailure *gen.Failure
		wantNextRun string
	}{
		{
			name: "completed with an object result",
			execs: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
				completedEvent(jsonPayloads(`{"greeting":"Hello, Ada!","big":`+bigInt+`}`)))},
			target:     "/workflows/greeting-ada",
			wantRunID:  "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus: gen.ExecutionStatusCOMPLETED,
			wantResult: `{"greeting":"Hello, Ada!","big":` + bigInt + `}`,
		},
		{
			name:       "completed with a string result",
			execs:      []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`"Hello, Ada!"`)))},
			target:     "/workflows/greeting-ada",
			wantRunID:  "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus: gen.ExecutionStatusCOMPLETED,
			wantResult: `"Hello, Ada!"`,
		},
		{
			name:       "completed with several results",
			execs:      []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`1`, `{"a":[true]}`)))},
			target:     "/workflows/greeting-ada",
			wantRunID:  "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus: gen.ExecutionStatusCOMPLETED,
			wantResult: `[1,{"a":[true]}]`,
		},
		{
			name:       "failed with an application error",
			execs:      []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, failedEvent(insufficientFunds()))},
			target:     "/workflows/greeting-ada",
			wantRunID:  "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus: gen.ExecutionStatusFAILED,
			wantFailure: &gen.Failure{
				Message: "insufficient funds", Type: ptr("InsufficientFundsError"), NonRetryable: ptr(true),
				Cause: &gen.Failure{Message: "balance 10 is below 100", Type: ptr("BalanceError"), NonRetryable: ptr(false)},
			},
		},
		{
			name: "terminated",
			execs: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, &historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
				Attributes: &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{
					WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{Reason: "stopped by operator"},
				},
			})},
			target:      "/workflows/greeting-ada",
			wantRunID:   "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus:  gen.ExecutionStatusTERMINATED,
			wantFailure: &gen.Failure{Message: "stopped by operator", Type: ptr("TerminatedError")},
		},
		{
			name: "canceled",
			execs: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, &historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
				Attributes: &historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes{
					WorkflowExecutionCanceledEventAttributes: &historypb.WorkflowExecutionCanceledEventAttributes{},
				},
			})},
			target:      "/workflows/greeting-ada",
			wantRunID:   "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus:  gen.ExecutionStatusCANCELED,
			wantFailure: &gen.Failure{Message: "workflow execution canceled", Type: ptr("CanceledError")},
		},
		{
			name: "timed out",
			execs: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, &historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
				Attributes: &historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes{
					WorkflowExecutionTimedOutEventAttributes: &historypb.WorkflowExecutionTimedOutEventAttributes{},
				},
			})},
			target:      "/workflows/greeting-ada",
			wantRunID:   "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus:  gen.ExecutionStatusTIMEDOUT,
			wantFailure: &gen.Failure{Message: "workflow execution timed out", Type: ptr("TimeoutError")},
		},
		{
			name: "continued as new",
			execs: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, &historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
				Attributes: &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{
					WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{NewExecutionRunId: "01a2110d-1b69-77ad-9897-000000000002"},
				},
			})},
			target:      "/workflows/greeting-ada",
			wantRunID:   "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus:  gen.ExecutionStatusCONTINUEDASNEW,
			wantNextRun: "01a2110d-1b69-77ad-9897-000000000002",
		},
		{
			// A cron run closes with continued-as-new while Describe says COMPLETED.
			name: "cron run completed",
			execs: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, &historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
				Attributes: &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{
					WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
						NewExecutionRunId:    "01a2110d-1b69-77ad-9897-000000000002",
						LastCompletionResult: jsonPayloads(`{"count":3}`),
					},
				},
			})},
			target:      "/workflows/greeting-ada",
			wantRunID:   "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus:  gen.ExecutionStatusCOMPLETED,
			wantResult:  `{"count":3}`,
			wantNextRun: "01a2110d-1b69-77ad-9897-000000000002",
		},
		{
			// A run with a retry policy closes with continued-as-new while Describe says FAILED.
			name: "retried run failed",
			execs: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, &historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
				Attributes: &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{
					WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
						NewExecutionRunId: "01a2110d-1b69-77ad-9897-000000000002",
						Failure:           insufficientFunds(),
					},
				},
			})},
			target:     "/workflows/greeting-ada",
			wantRunID:  "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus: gen.ExecutionStatusFAILED,
			wantFailure: &gen.Failure{
				Message: "insufficient funds", Type: ptr("InsufficientFundsError"), NonRetryable: ptr(true),
				Cause: &gen.Failure{Message: "balance 10 is below 100", Type: ptr("BalanceError"), NonRetryable: ptr(false)},
			},
			wantNextRun: "01a2110d-1b69-77ad-9897-000000000002",
		},
		{
			name: "running",
			execs: []*fakeExecution{{
				workflowID: "greeting-ada", runID: "01a2110d-1b69-77ad-9897-000000000001", workflowType: "Greeting", taskQueue: defaultTaskQueue,
				status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, historyLength: 11,
			}},
			target:     "/workflows/greeting-ada",
			wantRunID:  "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus: gen.ExecutionStatusRUNNING,
		},
		{
			name: "named run",
			execs: []*fakeExecution{
				closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`"first"`))),
				{
					workflowID: "greeting-ada", runID: "01a2110d-1b69-77ad-9897-000000000002", workflowType: "Greeting", taskQueue: defaultTaskQueue,
					status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, historyLength: 11,
				},
			},
			target:     "/workflows/greeting-ada?runId=01a2110d-1b69-77ad-9897-000000000001",
			wantRunID:  "01a2110d-1b69-77ad-9897-000000000001",
			wantStatus: gen.ExecutionStatusCOMPLETED,
			wantResult: `"first"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: tt.execs}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, tt.target, ""))

			require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.NotContains(t, rec.Body.String(), secret, "the failure's stack trace reached the client")
			exec, raw := decodeExecution(t, rec)
			assert.Equal(t, "greeting-ada", exec.WorkflowId)
			assert.Equal(t, tt.wantRunID, exec.RunId)
			assert.Equal(t, "Greeting", exec.WorkflowType)
			assert.Equal(t, defaultTaskQueue, exec.TaskQueue)
			assert.Equal(t, tt.wantStatus, exec.Status)
			assert.Equal(t, ptr(int64(11)), exec.HistoryLength)
			assert.True(t, fakeStartTime.Equal(deref(exec.StartTime)), "startTime %v", exec.StartTime)

			if tt.wantResult == "" {
				assert.NotContains(t, raw, "result")
			} else if assert.Contains(t, raw, "result") {
				assert.Equal(t, tt.wantResult, string(raw["result"]), "result is not the workflow's JSON as it is")
			}
			assert.Equal(t, tt.wantFailure, exec.Failure)
			if tt.wantNextRun == "" {
				assert.Nil(t, exec.NextRunId)
			} else if assert.NotNil(t, exec.NextRunId) {
				assert.Equal(t, tt.wantNextRun, *exec.NextRunId)
			}

			wantDescribe := runCall{"greeting-ada", ""}
			if u, _ := url.Parse(tt.target); u.Query().Has("runId") {
				wantDescribe.runID = u.Query().Get("runId")
			}
			assert.Equal(t, []runCall{wantDescribe}, fake.describeCalls())
			if tt.wantStatus == gen.ExecutionStatusRUNNING {
				assert.Nil(t, exec.CloseTime)
				assert.Empty(t, fake.historyCalls(), "a running execution's history was read")
				return
			}
			assert.NotNil(t, exec.CloseTime)
			assert.Equal(t, []historyCall{{
				workflowID: "greeting-ada", runID: tt.wantRunID, isLongPoll: false,
				filter: enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
			}}, fake.historyCalls())
		})
	}
}

func TestStartThenGet(t *testing.T) {
	fake := &fakeTemporal{}
	h := newRouter(t, fake)
	started := serve(h, newRequest(http.MethodPost, "/workflows", `{"workflowType":"Greeting","workflowId":"greeting-ada"}`))
	require.Equal(t, http.StatusCreated, started.Code, "body: %s", started.Body)

	rec := serve(h, newRequest(http.MethodGet, started.Header().Get("Location"), ""))

	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	// The read tells all that the start told, and what only a read knows.
	var fromStart, fromRead map[string]any
	require.NoError(t, json.Unmarshal(started.Body.Bytes(), &fromStart))
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &fromRead))
	for k, v := range fromStart {
		assert.Equal(t, v, fromRead[k], k)
	}
	assert.Contains(t, fromRead, "startTime")
	assert.Contains(t, fromRead, "historyLength")
}

func TestOpenAPISpec(t *testing.T) {
	fake := &fakeTemporal{}
	rec := serve(newRouter(t, fake), newRequest(http.MethodGet, "/openapi.yaml", ""))

	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/yaml", rec.Header().Get("Content-Type"))
	require.NotEmpty(t, api.OpenAPI)
	assert.Equal(t, string(api.OpenAPI), rec.Body.String())
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

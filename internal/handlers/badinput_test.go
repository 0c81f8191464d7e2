package handlers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/temporalhttp/gateway/internal/gen"
)

// routeTargets are a request to every operation that reaches Temporal, about greeting-ada.
var routeTargets = []struct {
	name, method, target, body string
}{
	{"get", http.MethodGet, "/workflows/greeting-ada", ""},
	{"history", http.MethodGet, "/workflows/greeting-ada/history", ""},
	{"events", http.MethodGet, "/workflows/greeting-ada/events", ""},
	{"signal", http.MethodPost, "/workflows/greeting-ada/signals/decision", `{}`},
	{"query", http.MethodPost, "/workflows/greeting-ada/queries/status", `{}`},
	{"update", http.MethodPost, "/workflows/greeting-ada/updates/approve", `{}`},
	{"cancel", http.MethodPost, "/workflows/greeting-ada/cancel", `{}`},
	{"terminate", http.MethodPost, "/workflows/greeting-ada/terminate", `{}`},
	{"list", http.MethodGet, "/workflows?workflowType=Greeting", ""},
	{"start", http.MethodPost, "/workflows", `{"workflowType":"Greeting","workflowId":"greeting-ada","input":{"name":"Ada"}}`},
	{"signal-with-start", http.MethodPost, "/workflows", `{"workflowType":"Greeting","workflowId":"greeting-ada","signal":{"name":"decision"}}`},
}

// TestTemporalsInvalidArgumentIs400OnEveryRoute: whatever Temporal refuses as an invalid argument
// is the caller's mistake on every route, answered 400 and logged as a warning, not an error.
func TestTemporalsInvalidArgumentIs400OnEveryRoute(t *testing.T) {
	invalid := serviceerror.NewInvalidArgument(secret + ": WorkflowId exceeds length limit.")
	for _, rt := range routeTargets {
		t.Run(rt.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: running(), startErr: invalid, describeErr: invalid,
				lifecycleErr: invalid, listErr: invalid, pageErr: invalid}
			var log bytes.Buffer
			rec := serve(newRouter(t, fake, logTo(&log)), newRequest(rt.method, rt.target, rt.body))

			requireProblem(t, rec, "urn:temporal-http:problem:refused-by-temporal")
			levels := map[string]bool{}
			for _, line := range logLines(t, &log) {
				levels[line["level"].(string)] = true
				if line["level"] == "WARN" {
					assert.Equal(t, "temporal refused a request", line["msg"])
				}
			}
			assert.False(t, levels["ERROR"], "a refused argument is logged at ERROR level:\n%s", log.String())
			assert.True(t, levels["WARN"], "Temporal's reason is logged for the operator:\n%s", log.String())
		})
	}
}

// TestMalformedRunIDsAre400BeforeTemporal sweeps the routes with run ids that are not UUIDs:
// each is answered 400 naming the run id, and nothing reaches Temporal.
func TestMalformedRunIDsAre400BeforeTemporal(t *testing.T) {
	const notUUID = `{"runId":"not-a-uuid"}`
	tests := []struct {
		name, method, target, body string
		want                       fieldRef
	}{
		{"get: runId not a UUID", http.MethodGet, "/workflows/greeting-ada?runId=run-1", "", fieldRef{gen.FieldErrorInQuery, "runId"}},
		{"get: runId a UUID in braces", http.MethodGet, "/workflows/greeting-ada?runId=%7B01a2110d-1b69-77ad-9897-c51741a70f19%7D", "", fieldRef{gen.FieldErrorInQuery, "runId"}},
		{"history: runId not a UUID", http.MethodGet, "/workflows/greeting-ada/history?runId=x", "", fieldRef{gen.FieldErrorInQuery, "runId"}},
		{"events: runId not a UUID", http.MethodGet, "/workflows/greeting-ada/events?runId=x", "", fieldRef{gen.FieldErrorInQuery, "runId"}},
		{"signal: runId not a UUID", http.MethodPost, "/workflows/greeting-ada/signals/decision", notUUID, fieldRef{gen.FieldErrorInBody, "runId"}},
		{"query: runId not a UUID", http.MethodPost, "/workflows/greeting-ada/queries/status", notUUID, fieldRef{gen.FieldErrorInBody, "runId"}},
		{"update: runId not a UUID", http.MethodPost, "/workflows/greeting-ada/updates/approve", notUUID, fieldRef{gen.FieldErrorInBody, "runId"}},
		{"cancel: runId not a UUID", http.MethodPost, "/workflows/greeting-ada/cancel", notUUID, fieldRef{gen.FieldErrorInBody, "runId"}},
		{"terminate: runId not a UUID", http.MethodPost, "/workflows/greeting-ada/terminate", notUUID, fieldRef{gen.FieldErrorInBody, "runId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: running()}
			var log bytes.Buffer
			rec := serve(newRouter(t, fake, logTo(&log)), newRequest(tt.method, tt.target, tt.body))

			p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
			assert.Equal(t, []fieldRef{tt.want}, fieldRefs(t, p))
			assert.Empty(t, fake.describeCalls(), "a malformed request reached Temporal")
			assert.Empty(t, fake.startCalls(), "a malformed request reached Temporal")
			assert.Empty(t, fake.lifecycle, "a malformed request reached Temporal")
			assert.Empty(t, fake.listCalls(), "a malformed request reached Temporal")
			assert.Empty(t, fake.pageCalls(), "a malformed request reached Temporal")
			for _, line := range logLines(t, &log) {
				require.NotEqual(t, "ERROR", line["level"], "%v", line)
			}
		})
	}
}

// TestParametersNotUTF8Are400BeforeTemporal sweeps the routes with path and query values that
// are not UTF-8: each is answered 400 naming the parameter, and nothing reaches Temporal.
func TestParametersNotUTF8Are400BeforeTemporal(t *testing.T) {
	tests := []struct {
		name, method, target, body string
		want                       fieldRef
	}{
		{"get: workflowId not UTF-8", http.MethodGet, "/workflows/%FF", "", fieldRef{gen.FieldErrorInPath, "workflowId"}},
		{"get: workflowId not UTF-8, beside an escaped slash", http.MethodGet, "/workflows/a%2F%FF", "", fieldRef{gen.FieldErrorInPath, "workflowId"}},
		{"get: wait not UTF-8", http.MethodGet, "/workflows/greeting-ada?wait=%C3%28", "", fieldRef{gen.FieldErrorInQuery, "wait"}},
		{"history: workflowId not UTF-8", http.MethodGet, "/workflows/%ED%A0%80/history", "", fieldRef{gen.FieldErrorInPath, "workflowId"}},
		{"events: workflowId not UTF-8", http.MethodGet, "/workflows/%FF/events", "", fieldRef{gen.FieldErrorInPath, "workflowId"}},
		{"signal: signalName not UTF-8", http.MethodPost, "/workflows/greeting-ada/signals/%FF", `{}`, fieldRef{gen.FieldErrorInPath, "signalName"}},
		{"query: queryType not UTF-8", http.MethodPost, "/workflows/greeting-ada/queries/%FF", `{}`, fieldRef{gen.FieldErrorInPath, "queryType"}},
		{"update: updateName not UTF-8", http.MethodPost, "/workflows/greeting-ada/updates/%FF", `{}`, fieldRef{gen.FieldErrorInPath, "updateName"}},
		{"cancel: workflowId not UTF-8", http.MethodPost, "/workflows/%FF/cancel", `{}`, fieldRef{gen.FieldErrorInPath, "workflowId"}},
		{"terminate: workflowId not UTF-8", http.MethodPost, "/workflows/%FF/terminate", `{}`, fieldRef{gen.FieldErrorInPath, "workflowId"}},
		{"list: workflowType not UTF-8", http.MethodGet, "/workflows?workflowType=%FF", "", fieldRef{gen.FieldErrorInQuery, "workflowType"}},
		{"list: unknown parameter not UTF-8", http.MethodGet, "/workflows?x=%FF", "", fieldRef{gen.FieldErrorInQuery, "x"}},
		{"start: wait not UTF-8", http.MethodPost, "/workflows?wait=%FF", `{"workflowType":"Greeting"}`, fieldRef{gen.FieldErrorInQuery, "wait"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: running()}
			var log bytes.Buffer
			rec := serve(newRouter(t, fake, logTo(&log)), newRequest(tt.method, tt.target, tt.body))

			p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
			assert.Equal(t, []fieldRef{tt.want}, fieldRefs(t, p))
			assert.Empty(t, fake.describeCalls(), "a malformed request reached Temporal")
			assert.Empty(t, fake.startCalls(), "a malformed request reached Temporal")
			assert.Empty(t, fake.lifecycle, "a malformed request reached Temporal")
			assert.Empty(t, fake.listCalls(), "a malformed request reached Temporal")
			assert.Empty(t, fake.pageCalls(), "a malformed request reached Temporal")
			for _, line := range logLines(t, &log) {
				require.NotEqual(t, "ERROR", line["level"], "%v", line)
			}
		})
	}
}

// TestPathParametersAreCheckedAsTheHandlerSeesThem: the contract's limits apply to a path
// parameter as decoded, not as escaped in the URL; so an id within them is read however long
// its escaped form, and `.` is refused however it is spelt.
func TestPathParametersAreCheckedAsTheHandlerSeesThem(t *testing.T) {
	long := strings.Repeat("é", 400) // 400 characters, 2400 once escaped
	tests := []struct {
		name, target string
		wantStatus   int
		wantID       string
	}{
		{"id whose escaped form is over maxLength", "/workflows/" + url.PathEscape(long), http.StatusOK, long},
		{"id of slashes", "/workflows/" + url.PathEscape(strings.Repeat("/", 600)), http.StatusOK, strings.Repeat("/", 600)},
		{"dot", "/workflows/.", http.StatusBadRequest, ""},
		{"dot escaped", "/workflows/%2E", http.StatusBadRequest, ""},
		{"dot dot escaped", "/workflows/%2e%2E", http.StatusBadRequest, ""},
		{"dot escaped, below", "/workflows/%2E/history", http.StatusBadRequest, ""},
		// Unescaped once, as the handler does: an escaped percent stays a percent.
		{"a percent before 2E", "/workflows/%252E", http.StatusOK, "%2E"},
		{"a percent, beside an escaped slash", "/workflows/%2541%2F", http.StatusOK, "%41/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			if tt.wantID != "" {
				fake.executions = []*fakeExecution{{workflowID: tt.wantID, runID: fakeRunID(1), workflowType: "Echo",
					taskQueue: defaultTaskQueue, status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}}
			}
			rec := serve(newRouter(t, fake), newRequest(http.MethodGet, tt.target, ""))
			if tt.wantStatus != http.StatusOK {
				p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
				assert.Equal(t, []fieldRef{{gen.FieldErrorInPath, "workflowId"}}, fieldRefs(t, p))
				assert.Empty(t, fake.describeCalls())
				assert.Empty(t, fake.pageCalls())
				return
			}
			require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
			var exec gen.Execution
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &exec))
			assert.Equal(t, tt.wantID, exec.WorkflowId)
		})
	}
}

// TestDotIDsAreRefusedAtStart: no URL can name `.` or `..`, so no execution may have one as its
// id; the start says why, and nothing reaches Temporal.
func TestDotIDsAreRefusedAtStart(t *testing.T) {
	for _, id := range []string{".", ".."} {
		t.Run(id, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows", `{"workflowType":"Echo","workflowId":"`+id+`"}`))
			p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
			require.NotNil(t, p.Errors)
			assert.Equal(t, []gen.FieldError{{In: gen.FieldErrorInBody, Field: "workflowId", Message: `must not be "." or ".."`}}, *p.Errors)
			assert.Empty(t, fake.startCalls())
		})
	}
	for _, id := range []string{"...", ".a", "a.", "%2e"} {
		t.Run(id, func(t *testing.T) {
			rec := serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodPost, "/workflows", `{"workflowType":"Echo","workflowId":"`+id+`"}`))
			assert.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
		})
	}
}

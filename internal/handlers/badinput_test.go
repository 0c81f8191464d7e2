package handlers_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/api/serviceerror"
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

package handlers_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
)

// The typed operations over a fake Temporal: what they refuse and in which order. The e2e tests
// (internal/e2e/typed_test.go) drive them on the real stack.

// TestTypedStartUseExistingOfAnotherTypeIsRefusedAtOnce: USE_EXISTING that finds a running
// execution of another type answers 409 without waiting for it, and nothing is started.
func TestTypedStartUseExistingOfAnotherTypeIsRefusedAtOnce(t *testing.T) {
	fake := &fakeTemporal{executions: []*fakeExecution{runningRun()}} // approval-1, an Approval
	h := newRouter(t, fake, withContractTypes(t), func(o *handlers.Options) { o.MaxWait = time.Hour })
	begin := time.Now()
	rec := serve(h, newRequest(http.MethodPost, "/money-transfers?wait=30s", `{"workflowId":"approval-1",
		"idConflictPolicy":"USE_EXISTING","input":{"fromAccount":"a","toAccount":"b","amount":1,"referenceId":"r"}}`))
	assert.Less(t, time.Since(begin), 5*time.Second, "no wait for an execution of another type")
	p := requireProblem(t, rec, "urn:temporal-http:problem:workflow-already-started")
	assert.Equal(t, http.StatusConflict, p.Status)
	require.NotNil(t, p.WorkflowId)
	assert.Equal(t, "approval-1", *p.WorkflowId)
	assert.Len(t, fake.executions, 1, "nothing was started")
}

// TestTypedBodiesAreCheckedEnvelopeFirst: what is wrong beside the input is a 400, as on
// POST /workflows; then the input, by the check POST /workflows makes of it, is a 422 naming each
// field; typed signals and updates alike. Nothing reaches Temporal.
func TestTypedBodiesAreCheckedEnvelopeFirst(t *testing.T) {
	for _, tc := range []struct {
		name, path, body, wantType string
		wantFields                 []string
	}{
		{"null body", "/money-transfers", `null`, "urn:temporal-http:problem:validation", nil},
		{"workflowId of the wrong type beside a bad input", "/money-transfers", `{"workflowId":5,"input":{"amount":"x"}}`,
			"urn:temporal-http:problem:validation", []string{"workflowId"}},
		{"a field the body does not have", "/money-transfers", `{"Input":{}}`, "urn:temporal-http:problem:validation", []string{"Input"}},
		{"amount as a string", "/money-transfers", `{"input":{"fromAccount":"a","toAccount":"b","amount":"1","referenceId":"r"}}`,
			"urn:temporal-http:problem:invalid-input", []string{"/input/amount"}},
		{"no input", "/greetings", `{}`, "urn:temporal-http:problem:invalid-input", []string{"/input/name"}},
		{"an update's quantity with a fraction", "/carts/approval-1/items", `{"input":{"sku":"A","quantity":2.0,"priceCents":1}}`,
			"urn:temporal-http:problem:invalid-input", []string{"/input/quantity"}},
		{"a signal without its input", "/approvals/approval-1/decision", `{}`,
			"urn:temporal-http:problem:invalid-input", []string{"/input/approved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: []*fakeExecution{runningRun()}}
			rec := serve(newRouter(t, fake, withContractTypes(t)), newRequest(http.MethodPost, tc.path, tc.body))
			p := requireProblem(t, rec, tc.wantType)
			if tc.wantFields != nil {
				require.NotNil(t, p.Errors, "%s", rec.Body)
				var fields []string
				for _, f := range *p.Errors {
					fields = append(fields, f.Field)
				}
				assert.ElementsMatch(t, tc.wantFields, fields, "%s", rec.Body)
			}
			assert.Empty(t, fake.startCalls())
			assert.Empty(t, fake.lifecycle, "nothing reached the execution")
		})
	}
}

// TestTypedStartIsItsGenericTwin: the typed start passes on what the generic one would, and
// Location names the typed resource.
func TestTypedStartIsItsGenericTwin(t *testing.T) {
	fake := &fakeTemporal{}
	rec := serve(newRouter(t, fake, withContractTypes(t)), newRequest(http.MethodPost, "/sleeps",
		`{"workflowId":"nap","input":{"seconds":5},"memo":{"k":[1]},"executionTimeout":"1m30s","idReusePolicy":"REJECT_DUPLICATE"}`))
	require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
	assert.Regexp(t, `^/sleeps/nap\?runId=`, rec.Header().Get("Location"))
	var e gen.Execution
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
	assert.Equal(t, "Sleep", e.WorkflowType)
	calls := fake.startCalls()
	require.Len(t, calls, 1)
	assert.Equal(t, "Sleep", calls[0].workflow)
	assert.Equal(t, defaultTaskQueue, calls[0].options.TaskQueue)
	assert.Equal(t, 90*time.Second, calls[0].options.WorkflowExecutionTimeout)
	require.Len(t, calls[0].args, 1)
	assert.JSONEq(t, `{"seconds":5}`, string(mustJSON(t, calls[0].args[0])))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

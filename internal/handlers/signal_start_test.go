package handlers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

func TestSignalWithStart(t *testing.T) {
	const body = `{"workflowType":"Greeting","workflowId":"approval-9","input":{"name":"Ada"},"signal":{"name":"decision","input":{"approved":true,"n":123456789012345678901234567890}}}`

	t.Run("starts when nothing runs (201), then signals the running one (200)", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake)
		first := serve(h, newRequest(http.MethodPost, "/workflows", body))
		require.Equal(t, http.StatusCreated, first.Code, "body: %s", first.Body)
		second := serve(h, newRequest(http.MethodPost, "/workflows", body))
		require.Equal(t, http.StatusOK, second.Code, "body: %s", second.Body)
		assert.Empty(t, second.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, decode(t, first.Body.Bytes()).RunId, decode(t, second.Body.Bytes()).RunId)

		require.Len(t, fake.starts, 2, "signal-with-start is one call, not a start and a signal")
		call := fake.starts[0]
		require.NotNil(t, call.signal)
		assert.Equal(t, "decision", call.signal.Name)
		assert.Equal(t, json.RawMessage(`{"approved":true,"n":123456789012345678901234567890}`), call.signal.Arg)
		assert.Equal(t, []any{json.RawMessage(`{"name":"Ada"}`)}, call.args)
		assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, call.options.WorkflowIDConflictPolicy)
		assert.Equal(t, defaultTaskQueue, call.options.TaskQueue)
	})
	t.Run("startDelay reaches Temporal", func(t *testing.T) {
		fake := &fakeTemporal{}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows",
			`{"workflowType":"Greeting","startDelay":"90s","signal":{"name":"decision"}}`))
		require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
		assert.Equal(t, int64(90), int64(fake.starts[0].options.StartDelay.Seconds()))
	})
	t.Run("FAIL cannot go with a signal", func(t *testing.T) {
		fake := &fakeTemporal{}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows",
			`{"workflowType":"Greeting","idConflictPolicy":"FAIL","signal":{"name":"decision"}}`))
		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Equal(t, []fieldRef{{"body", "idConflictPolicy"}}, fieldRefs(t, p))
		assert.Empty(t, fake.starts)
	})
	t.Run("a signal without a name is 400", func(t *testing.T) {
		rec := serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodPost, "/workflows",
			`{"workflowType":"Greeting","signal":{}}`))
		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Equal(t, []fieldRef{{"body", "signal.name"}}, fieldRefs(t, p))
	})
	t.Run("Temporal down is 503", func(t *testing.T) {
		rec := serve(newRouter(t, &fakeTemporal{startErr: serviceerror.NewUnavailable(secret)}),
			newRequest(http.MethodPost, "/workflows", body))
		requireProblem(t, rec, "urn:temporal-http:problem:temporal-unavailable")
	})
}

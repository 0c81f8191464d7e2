package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func startWithKey(t *testing.T, h http.Handler, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := newRequest(http.MethodPost, "/workflows", body)
	req.Header.Set("Idempotency-Key", key)
	return serve(h, req)
}

func TestIdempotencyKey(t *testing.T) {
	const body = `{"workflowType":"Greeting","input":{"name":"Ada"}}`

	t.Run("a retry answers the first execution", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake)
		first := startWithKey(t, h, "key-1", body)
		require.Equal(t, http.StatusCreated, first.Code, "body: %s", first.Body)
		firstExec := decode(t, first.Body.Bytes())
		assert.Regexp(t, `^idem-[0-9a-f]{32}$`, firstExec.WorkflowId, "without a workflowId the key names the execution")
		assert.Nil(t, firstExec.Memo, "the gateway's record is not the caller's memo")
		require.Len(t, fake.starts, 1)
		assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, fake.starts[0].options.WorkflowIDReusePolicy,
			"a retry after the run closed must find it, not start another")

		// Temporal refuses the id the second time: the gateway reads the record on the execution.
		fake.startErr = serviceerror.NewWorkflowExecutionAlreadyStarted(secret, "", firstExec.RunId)
		retry := startWithKey(t, h, "key-1", `{ "input": {"name": "Ada"}, "workflowType": "Greeting" }`)
		require.Equal(t, http.StatusOK, retry.Code, "body: %s", retry.Body)
		assert.Equal(t, "true", retry.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, firstExec.RunId, decode(t, retry.Body.Bytes()).RunId)
		assert.Equal(t, first.Header().Get("Location"), retry.Header().Get("Location"))
		assert.Equal(t, fake.starts[0].options.ID, fake.starts[1].options.ID, "the retry asks for the same id")

		t.Run("the same key with another request is 422", func(t *testing.T) {
			rec := startWithKey(t, h, "key-1", `{"workflowType":"Greeting","input":{"name":"Grace"}}`)
			p := requireProblem(t, rec, "urn:temporal-http:problem:idempotency-key-reused")
			require.NotNil(t, p.RunId)
			assert.Equal(t, firstExec.RunId, *p.RunId)
		})
	})

	t.Run("another key on a taken id is a plain conflict", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake)
		withID := `{"workflowType":"Greeting","workflowId":"order-7","input":{"name":"Ada"}}`
		first := startWithKey(t, h, "key-a", withID)
		require.Equal(t, http.StatusCreated, first.Code)
		fake.startErr = serviceerror.NewWorkflowExecutionAlreadyStarted(secret, "", decode(t, first.Body.Bytes()).RunId)
		requireProblem(t, startWithKey(t, h, "key-b", withID), "urn:temporal-http:problem:workflow-already-started")
	})

	t.Run("a request's own reuse policy is kept", func(t *testing.T) {
		fake := &fakeTemporal{}
		rec := startWithKey(t, newRouter(t, fake), "key-2", `{"workflowType":"Greeting","idReusePolicy":"ALLOW_DUPLICATE"}`)
		require.Equal(t, http.StatusCreated, rec.Code)
		assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, fake.starts[0].options.WorkflowIDReusePolicy)
	})

	t.Run("the gateway's memo field is reserved", func(t *testing.T) {
		rec := serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodPost, "/workflows",
			`{"workflowType":"Greeting","memo":{"__gatewayIdempotency":{"key":"forged"}}}`))
		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Contains(t, fieldRefs(t, p), fieldRef{"body", "memo.__gatewayIdempotency"})
	})
}

func TestIdempotencyKeyEdgeCases(t *testing.T) {
	t.Run("TERMINATE_EXISTING never terminates the run its own key started", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake)
		body := `{"workflowType":"Greeting","workflowId":"order-1","idConflictPolicy":"TERMINATE_EXISTING"}`
		first := startWithKey(t, h, "key-t", body)
		require.Equal(t, http.StatusCreated, first.Code, "body: %s", first.Body)
		fake.startErr = serviceerror.NewWorkflowExecutionAlreadyStarted(secret, "", decode(t, first.Body.Bytes()).RunId)
		retry := startWithKey(t, h, "key-t", body)
		require.Equal(t, http.StatusOK, retry.Code, "body: %s", retry.Body)
		assert.Equal(t, "true", retry.Header().Get("Idempotent-Replayed"))
		require.Len(t, fake.starts, 2)
		assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, fake.starts[1].options.WorkflowIDConflictPolicy)

		// Another key does terminate: the FAIL attempt is followed by the requested policy.
		startWithKey(t, h, "key-other", body)
		require.Len(t, fake.starts, 4)
		assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, fake.starts[2].options.WorkflowIDConflictPolicy)
		assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING, fake.starts[3].options.WorkflowIDConflictPolicy)
	})
	t.Run("with a workflowId the reuse policy stays the default", func(t *testing.T) {
		fake := &fakeTemporal{}
		rec := startWithKey(t, newRouter(t, fake), "key-w", `{"workflowType":"Greeting","workflowId":"order-2"}`)
		require.Equal(t, http.StatusCreated, rec.Code)
		assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED, fake.starts[0].options.WorkflowIDReusePolicy)
	})
	t.Run("key order and spacing inside input do not make another request", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake)
		first := startWithKey(t, h, "key-o", `{"workflowType":"Echo","input":{"a":1,"b":[12345678901234567890,{"y":1,"x":2}]}}`)
		require.Equal(t, http.StatusCreated, first.Code)
		fake.startErr = serviceerror.NewWorkflowExecutionAlreadyStarted(secret, "", decode(t, first.Body.Bytes()).RunId)
		retry := startWithKey(t, h, "key-o", `{"workflowType":"Echo","input":{"b":[12345678901234567890,{"x":2,"y":1}], "a":1}}`)
		assert.Equal(t, http.StatusOK, retry.Code, "body: %s", retry.Body)
		other := startWithKey(t, h, "key-o", `{"workflowType":"Echo","input":{"a":1,"b":[12345678901234567891,{"x":2,"y":1}]}}`)
		requireProblem(t, other, "urn:temporal-http:problem:idempotency-key-reused")
	})
	t.Run("signal-with-start retried with its key is replayed; another signal is 422", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake)
		body := `{"workflowType":"Greeting","signal":{"name":"decision","input":{"approved":true}}}`
		first := startWithKey(t, h, "key-s", body)
		require.Equal(t, http.StatusCreated, first.Code, "body: %s", first.Body)
		// The fake stores no memo on signal-with-start runs; give the run the record it would have.
		fake.mu.Lock()
		fake.executions[0].memo = fake.signalStarts[0].GetMemo().GetFields()
		fake.mu.Unlock()
		retry := startWithKey(t, h, "key-s", body)
		require.Equal(t, http.StatusOK, retry.Code, "body: %s", retry.Body)
		assert.Equal(t, "true", retry.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, fake.signalStarts[0].GetRequestId(), fake.signalStarts[1].GetRequestId(), "the same key, the same request id")
		other := startWithKey(t, h, "key-s", `{"workflowType":"Greeting","signal":{"name":"decision","input":{"approved":false}}}`)
		requireProblem(t, other, "urn:temporal-http:problem:idempotency-key-reused")
	})
}

func TestStartRefusedByTemporalIs400(t *testing.T) {
	fake := &fakeTemporal{startErr: serviceerror.NewInvalidArgument(secret + ": task queue name is reserved")}
	rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows", `{"workflowType":"Greeting","taskQueue":"/_sys/x"}`))
	requireProblem(t, rec, "urn:temporal-http:problem:refused-by-temporal")
}

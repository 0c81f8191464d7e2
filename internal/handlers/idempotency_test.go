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

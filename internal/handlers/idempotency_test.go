package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/temporalhttp/gateway/internal/auth"
)

func startWithKey(t *testing.T, h http.Handler, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := newRequest(http.MethodPost, "/workflows", body)
	req.Header.Set("Idempotency-Key", key)
	return serve(h, req)
}

// The executions core decides what a keyed start does (its own tests cover every combination);
// these tests check what the HTTP answer makes of it.
func TestIdempotencyKey(t *testing.T) {
	const body = `{"workflowType":"Greeting","input":{"name":"Ada"}}`

	t.Run("a retry answers the first execution, marked as a replay", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake)
		first := startWithKey(t, h, "key-1", body)
		require.Equal(t, http.StatusCreated, first.Code, "body: %s", first.Body)
		assert.Empty(t, first.Header().Get("Idempotent-Replayed"))
		firstExec := decode(t, first.Body.Bytes())
		assert.Regexp(t, `^idem-[0-9a-f]{32}$`, firstExec.WorkflowId, "without a workflowId the key names the execution")
		assert.Nil(t, firstExec.Memo, "the gateway's record is not the caller's memo")
		require.Len(t, fake.startCalls(), 1)
		assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, fake.startCalls()[0].options.WorkflowIDReusePolicy,
			"a retry after the run closed must find it, not start another")

		retry := startWithKey(t, h, "key-1", `{ "input": {"name": "Ada"}, "workflowType": "Greeting", "idConflictPolicy": "FAIL" }`)
		require.Equal(t, http.StatusOK, retry.Code, "body: %s", retry.Body)
		assert.Equal(t, "true", retry.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, firstExec.RunId, decode(t, retry.Body.Bytes()).RunId)
		assert.Equal(t, first.Header().Get("Location"), retry.Header().Get("Location"))
		assert.Len(t, fake.startCalls(), 1, "the retry started nothing")

		t.Run("the same key with another request is 422 naming the execution", func(t *testing.T) {
			rec := startWithKey(t, h, "key-1", `{"workflowType":"Greeting","input":{"name":"Grace"}}`)
			p := requireProblem(t, rec, "urn:temporal-http:problem:idempotency-key-reused")
			require.NotNil(t, p.RunId)
			assert.Equal(t, firstExec.RunId, *p.RunId)
			require.NotNil(t, p.WorkflowId)
			assert.Equal(t, firstExec.WorkflowId, *p.WorkflowId)
			assert.Len(t, fake.startCalls(), 1, "nothing was started")
		})
	})

	t.Run("the gateway's memo field is reserved", func(t *testing.T) {
		rec := serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodPost, "/workflows",
			`{"workflowType":"Greeting","memo":{"__gatewayIdempotency":{"key":"forged"}}}`))
		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Contains(t, fieldRefs(t, p), fieldRef{"body", "memo.__gatewayIdempotency"})
	})

	t.Run("the ids that keys name cannot be named", func(t *testing.T) {
		fake := &fakeTemporal{}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows",
			`{"workflowType":"Greeting","workflowId":"idem-0123456789abcdef0123456789abcdef"}`))
		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Equal(t, []fieldRef{{"body", "workflowId"}}, fieldRefs(t, p))
		assert.Empty(t, fake.starts)
	})

	t.Run("two callers' same key names two executions", func(t *testing.T) {
		alice, aliceKey, err := auth.NewAPIKey("alice", []auth.Scope{auth.ScopeStart})
		require.NoError(t, err)
		bob, bobKey, err := auth.NewAPIKey("bob", []auth.Scope{auth.ScopeStart})
		require.NoError(t, err)
		fake := &fakeTemporal{}
		h := newRouter(t, fake, withAuth(auth.New([]auth.APIKey{aliceKey, bobKey}, nil)))
		var ids []string
		for _, key := range []string{alice, bob} {
			req := withKey(newRequest(http.MethodPost, "/workflows", body), key)
			req.Header.Set("Idempotency-Key", "shared")
			rec := serve(h, req)
			require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
			ids = append(ids, decode(t, rec.Body.Bytes()).WorkflowId)
		}
		assert.NotEqual(t, ids[0], ids[1])
	})
}

func TestStartRefusedByTemporalIs400(t *testing.T) {
	fake := &fakeTemporal{startErr: serviceerror.NewInvalidArgument(secret + ": task queue name is reserved")}
	rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows", `{"workflowType":"Greeting"}`))
	requireProblem(t, rec, "urn:temporal-http:problem:refused-by-temporal")
}

package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
)

func TestUpdateWithStart(t *testing.T) {
	const path = "/workflows/cart-ada/updates/addItem"
	const body = `{"input":{"sku":"tea","quantity":2,"priceCents":450},"start":{"workflowType":"Greeting","input":{"name":"Ada"}}}`
	result := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"totalCents":900}`)}

	t.Run("201 when it started the run, 200 when it found it, the result in both", func(t *testing.T) {
		fake := &fakeTemporal{updateResult: result}
		h := newRouter(t, fake)
		first := serve(h, newRequest(http.MethodPost, path, body))
		require.Equal(t, http.StatusCreated, first.Code, "body: %s", first.Body)
		var answer struct {
			UpdateID   string          `json:"updateId"`
			Result     json.RawMessage `json:"result"`
			WorkflowID string          `json:"workflowId"`
			RunID      string          `json:"runId"`
			RunStarted bool            `json:"runStarted"`
		}
		require.NoError(t, json.Unmarshal(first.Body.Bytes(), &answer))
		assert.JSONEq(t, `{"totalCents":900}`, string(answer.Result))
		assert.True(t, answer.RunStarted)
		assert.Equal(t, "cart-ada", answer.WorkflowID)
		assert.NotEmpty(t, answer.UpdateID)
		assert.Equal(t, "/workflows/cart-ada?runId="+answer.RunID, first.Header().Get("Location"))

		second := serve(h, newRequest(http.MethodPost, path, body))
		require.Equal(t, http.StatusOK, second.Code, "body: %s", second.Body)
		require.NoError(t, json.Unmarshal(second.Body.Bytes(), &answer))
		assert.False(t, answer.RunStarted)
		assert.NotEmpty(t, second.Header().Get("Location"))

		require.Len(t, fake.starts, 2, "update-with-start is one call")
		call := fake.starts[0]
		require.NotNil(t, call.update)
		assert.Equal(t, "addItem", call.update.Name)
		assert.Equal(t, json.RawMessage(`{"sku":"tea","quantity":2,"priceCents":450}`), call.update.Arg)
		assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, call.options.WorkflowIDConflictPolicy)
		assert.Equal(t, "cart-ada", call.options.ID)
	})
	t.Run("a rejected update is 422 saying whether the run was started", func(t *testing.T) {
		fake := &fakeTemporal{updateErr: temporal.NewApplicationError("the cart is checked out", "CartCheckedOutError")}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, path, body))
		p := requireProblem(t, rec, "urn:temporal-http:problem:rejected-by-workflow")
		var extra struct {
			RunStarted *bool  `json:"runStarted"`
			RunID      string `json:"runId"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &extra))
		require.NotNil(t, extra.RunStarted)
		assert.True(t, *extra.RunStarted)
		assert.NotEmpty(t, extra.RunID)
		require.NotNil(t, p.Failure)
		assert.Equal(t, "CartCheckedOutError", *p.Failure.Type)
	})
	t.Run("a bad start input is 422 naming /start/input", func(t *testing.T) {
		fake := &fakeTemporal{}
		rec := serve(newRouter(t, fake, withContractTypes(t)), newRequest(http.MethodPost, path,
			`{"start":{"workflowType":"Greeting","input":{"name":5}}}`))
		p := requireProblem(t, rec, "urn:temporal-http:problem:invalid-input")
		assert.Equal(t, []fieldRef{{"body", "/start/input/name"}}, fieldRefs(t, p))
		assert.Empty(t, fake.starts)
	})
	for name, tc := range map[string]struct{ body, problem, field string }{
		"runId with start":       {`{"runId":"01a2110d-1b69-77ad-9897-000000000001","start":{"workflowType":"Greeting"}}`, "validation", "runId"},
		"cronSchedule in start":  {`{"start":{"workflowType":"Greeting","cronSchedule":"@every 1m"}}`, "validation", ""},
		"TERMINATE_EXISTING":     {`{"start":{"workflowType":"Greeting","idConflictPolicy":"TERMINATE_EXISTING"}}`, "validation", ""},
		"an unknown type":        {`{"start":{"workflowType":"Nope"}}`, "unknown-workflow-type", ""},
		"a bad executionTimeout": {`{"start":{"workflowType":"Greeting","executionTimeout":"soon"}}`, "validation", "start.executionTimeout"},
		"a start without a type": {`{"start":{}}`, "validation", ""},
	} {
		t.Run(name+" is refused before Temporal", func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake), newRequest(http.MethodPost, path, tc.body))
			p := requireProblem(t, rec, "urn:temporal-http:problem:"+tc.problem)
			if tc.field != "" {
				assert.Equal(t, []fieldRef{{"body", tc.field}}, fieldRefs(t, p))
			}
			assert.Empty(t, fake.starts)
		})
	}
	t.Run("an Idempotency-Key makes the update id, and its retry is answered from the record", func(t *testing.T) {
		fake := &fakeTemporal{updateResult: result}
		h := newRouter(t, fake)
		send := func(key string) (*httptest.ResponseRecorder, string) {
			req := newRequest(http.MethodPost, path, body)
			if key != "" {
				req.Header.Set("Idempotency-Key", key)
			}
			rec := serve(h, req)
			var answer struct {
				UpdateID string `json:"updateId"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer), "body: %s", rec.Body)
			return rec, answer.UpdateID
		}
		first, id := send("k-1")
		require.Equal(t, http.StatusCreated, first.Code, "body: %s", first.Body)
		retry, retryID := send("k-1")
		require.Equal(t, http.StatusOK, retry.Code, "body: %s", retry.Body)
		assert.Equal(t, "true", retry.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, id, retryID, "the key names the update")
		updates := 0
		for _, c := range fake.starts {
			if c.update != nil {
				updates++
				assert.Equal(t, id, c.update.ID)
				assert.NotEmpty(t, c.requestID)
			}
		}
		assert.Equal(t, 1, updates, "the retry reached no update")
		_, unkeyed := send("")
		assert.NotEqual(t, id, unkeyed)
	})
	t.Run("no answer in time is 504 naming the update id", func(t *testing.T) {
		fake := &fakeTemporal{startErr: serviceerror.NewDeadlineExceeded(secret)}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, path, `{"updateId":"u-1","start":{"workflowType":"Greeting"}}`))
		p := requireProblem(t, rec, "urn:temporal-http:problem:no-worker")
		require.NotNil(t, p.UpdateId)
		assert.Equal(t, "u-1", *p.UpdateId)
		require.NotNil(t, p.WorkflowId)
		assert.Equal(t, "cart-ada", *p.WorkflowId)
		assert.NotContains(t, rec.Body.String(), secret)
	})
	t.Run("an update the contract's type does not have is refused before Temporal", func(t *testing.T) {
		fake := &fakeTemporal{}
		rec := serve(newRouter(t, fake, withContractTypes(t)), newRequest(http.MethodPost, "/workflows/cart-ada/updates/addItme",
			`{"start":{"workflowType":"Cart"}}`))
		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Equal(t, []fieldRef{{"path", "updateName"}}, fieldRefs(t, p))
		assert.Contains(t, rec.Body.String(), "addItem", "the problem names the type's updates")
		assert.Empty(t, fake.starts)
	})
}

func TestPlainUpdateRefusesAnIdempotencyKey(t *testing.T) {
	fake := &fakeTemporal{}
	req := newRequest(http.MethodPost, "/workflows/po-7/updates/approve", `{"input":{"comment":"ok"}}`)
	req.Header.Set("Idempotency-Key", "k-1")
	p := requireProblem(t, serve(newRouter(t, fake), req), "urn:temporal-http:problem:validation")
	assert.Equal(t, []fieldRef{{"header", "Idempotency-Key"}}, fieldRefs(t, p))
	assert.Empty(t, fake.lifecycle, "nothing reached Temporal")
}

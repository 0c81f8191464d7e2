package handlers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
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
	t.Run("an Idempotency-Key makes the update id", func(t *testing.T) {
		fake := &fakeTemporal{updateResult: result}
		req := newRequest(http.MethodPost, path, body)
		req.Header.Set("Idempotency-Key", "k-1")
		rec := serve(newRouter(t, fake), req)
		require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
		var update *startCall
		for i := range fake.starts {
			if fake.starts[i].update != nil {
				update = &fake.starts[i]
			}
		}
		require.NotNil(t, update)
		assert.NotEmpty(t, update.update.ID)
		assert.NotEmpty(t, update.requestID)
	})
}

func TestPlainUpdateIdempotencyKeyNamesTheUpdate(t *testing.T) {
	fake := &fakeTemporal{}
	h := newRouter(t, fake)
	send := func(key, name string) string {
		req := newRequest(http.MethodPost, "/workflows/po-7/updates/"+name, `{"input":{"comment":"ok"}}`)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := serve(h, req)
		require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
		var answer struct {
			UpdateID string `json:"updateId"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer))
		return answer.UpdateID
	}
	first := send("k-1", "approve")
	assert.Equal(t, first, send("k-1", "approve"), "a retry names the same update")
	assert.NotEqual(t, first, send("k-2", "approve"))
	assert.NotEqual(t, first, send("k-1", "reject"), "another update name is another update")
	assert.NotEqual(t, send("", "approve"), send("", "approve"), "without a key each request is a new update")
}

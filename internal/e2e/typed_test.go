package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// The typed resources, driven as a Go user drives them: through the generated client, whose
// requests and answers carry the workflows' own types (client.MoneyTransferInput in,
// client.MoneyTransferResult out), against the real dev server and worker.

// requireTypedLocation requires a Location under resource that names workflowID and a run.
func requireTypedLocation(t *testing.T, location, resource, workflowID string) {
	t.Helper()
	assert.True(t, strings.HasPrefix(location, resource+"/"+workflowID+"?runId="), "Location %q", location)
}

func TestTypedGreetingStartsWaitsAndReads(t *testing.T) {
	id := uniqueID(t)
	r, err := api(t).StartGreetingWithResponse(t.Context(), &client.StartGreetingParams{Wait: ptr("30s")},
		client.StartGreetingRequest{WorkflowId: &id, Input: client.GreetingInput{Name: "Go"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	requireTypedLocation(t, r.Headers201.Location, "/greetings", id)
	require.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON201.Status)
	require.NotNil(t, r.JSON201.Result, "body: %s", r.Body)
	assert.Equal(t, "Hello, Go!", r.JSON201.Result.Greeting)

	got, err := api(t).GetGreetingWithResponse(t.Context(), id, &client.GetGreetingParams{RunId: &r.JSON201.RunId})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode(), "body: %s", got.Body)
	assert.Equal(t, "Hello, Go!", got.JSON200.Result.Greeting)

	// The generic read's ETag and caching carry over.
	etag := got.HTTPResponse.Header.Get("ETag")
	require.NotEmpty(t, etag)
	same, err := api(t).GetGreetingWithResponse(t.Context(), id, &client.GetGreetingParams{RunId: &r.JSON201.RunId, IfNoneMatch: &etag})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotModified, same.StatusCode())
}

func TestTypedEchoSleepAndCronCounter(t *testing.T) {
	wait := ptr("30s")
	t.Run("Echo", func(t *testing.T) {
		id := uniqueID(t)
		in := client.EchoInput(`{"big":123456789012345678901234567890,"list":[1,"x",null]}`)
		r, err := api(t).StartEchoWithResponse(t.Context(), &client.StartEchoParams{Wait: wait},
			client.StartEchoRequest{WorkflowId: &id, Input: &in})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		requireTypedLocation(t, r.Headers201.Location, "/echoes", id)
		require.NotNil(t, r.JSON201.Result)
		assert.JSONEq(t, string(in), string(*r.JSON201.Result), "every digit comes back")
		got, err := api(t).GetEchoWithResponse(t.Context(), id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, got.StatusCode(), "body: %s", got.Body)
		assert.JSONEq(t, string(in), string(*got.JSON200.Result))
	})
	t.Run("Sleep", func(t *testing.T) {
		id := uniqueID(t)
		r, err := api(t).StartSleepWithResponse(t.Context(), &client.StartSleepParams{Wait: wait},
			client.StartSleepRequest{WorkflowId: &id, Input: &client.SleepInput{Seconds: ptr(int64(1))}})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON201.Result, "body: %s", r.Body)
		assert.Equal(t, int64(1), r.JSON201.Result.SleptSeconds)
		got, err := api(t).GetSleepWithResponse(t.Context(), id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, got.StatusCode(), "body: %s", got.Body)
		assert.Equal(t, int64(1), got.JSON200.Result.SleptSeconds)
	})
	t.Run("CronCounter", func(t *testing.T) {
		id := uniqueID(t)
		r, err := api(t).StartCronCounterWithResponse(t.Context(), &client.StartCronCounterParams{Wait: wait},
			client.StartCronCounterRequest{WorkflowId: &id})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON201.Result, "body: %s", r.Body)
		assert.Equal(t, int64(1), r.JSON201.Result.Count)
		got, err := api(t).GetCronCounterWithResponse(t.Context(), id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, got.StatusCode(), "body: %s", got.Body)
		assert.Equal(t, int64(1), got.JSON200.Result.Count)
	})
}

func TestTypedMoneyTransferCompletesAndFailsTyped(t *testing.T) {
	ref := uniqueID(t)
	key := "typed-" + ref
	body := client.StartMoneyTransferRequest{WorkflowId: &ref,
		Input: client.MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1, ReferenceId: ref}}
	params := &client.StartMoneyTransferParams{Wait: ptr("30s"), IdempotencyKey: &key}
	r, err := api(t).StartMoneyTransferWithResponse(t.Context(), params, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	requireTypedLocation(t, r.Headers201.Location, "/money-transfers", ref)
	require.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON201.Status, "body: %s", r.Body)
	receipt := r.JSON201.Result
	require.NotNil(t, receipt)
	assert.Equal(t, ref, receipt.ReferenceId)
	assert.NotEmpty(t, receipt.WithdrawalId)
	assert.NotEmpty(t, receipt.DepositId)

	// The same key again is the same start: answered, not made twice.
	again, err := api(t).StartMoneyTransferWithResponse(t.Context(), params, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, again.StatusCode(), "body: %s", again.Body)
	require.NotNil(t, again.Headers200.IdempotentReplayed)
	assert.True(t, *again.Headers200.IdempotentReplayed)
	assert.Equal(t, r.JSON201.RunId, again.JSON200.RunId)
	assert.Equal(t, receipt, again.JSON200.Result)

	// A refusal of the ledger's is a typed failure a caller can switch on.
	poor := uniqueID(t)
	f, err := api(t).StartMoneyTransferWithResponse(t.Context(), &client.StartMoneyTransferParams{Wait: ptr("30s")},
		client.StartMoneyTransferRequest{WorkflowId: &poor,
			Input: client.MoneyTransferInput{FromAccount: "charlie", ToAccount: "bob", Amount: 1, ReferenceId: poor}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, f.StatusCode(), "body: %s", f.Body)
	require.Equal(t, client.ExecutionStatusFAILED, f.JSON201.Status, "body: %s", f.Body)
	require.NotNil(t, f.JSON201.Failure)
	require.NotNil(t, f.JSON201.Failure.Type)
	switch *f.JSON201.Failure.Type {
	case client.MoneyTransferFailureTypeInsufficientFundsError:
	default:
		t.Fatalf("failure type %q, want InsufficientFundsError", *f.JSON201.Failure.Type)
	}
	got, err := api(t).GetMoneyTransferWithResponse(t.Context(), poor, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	assert.Equal(t, client.MoneyTransferFailureTypeInsufficientFundsError, *got.JSON200.Failure.Type)
}

func TestTypedApprovalSignalQueryAndUpdate(t *testing.T) {
	start := func(t *testing.T) (string, string) {
		id := uniqueID(t)
		r, err := api(t).StartApprovalWithResponse(t.Context(), nil, client.StartApprovalRequest{WorkflowId: &id,
			Input: &client.ApprovalInput{RequestId: &id, Amount: ptr(int64(125000)), Approver: ptr("grace")}})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		requireTypedLocation(t, r.Headers201.Location, "/approvals", id)
		return id, r.JSON201.RunId
	}
	status := func(t *testing.T, id string) client.ApprovalState {
		t.Helper()
		s, err := api(t).GetApprovalStatusWithResponse(t.Context(), id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, s.StatusCode(), "body: %s", s.Body)
		return s.JSON200.State
	}

	t.Run("approved by update", func(t *testing.T) {
		id, runID := start(t)
		assert.Equal(t, client.ApprovalStatePENDING, status(t, id))
		u, err := api(t).ApproveApprovalWithResponse(t.Context(), id,
			client.ApproveApprovalRequest{Input: &client.ApproveInput{Comment: ptr("by phone")}, UpdateId: ptr("approve-1")})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, u.StatusCode(), "body: %s", u.Body)
		assert.Equal(t, "approve-1", u.JSON200.UpdateId)
		assert.Equal(t, client.ApprovalStateAPPROVED, u.JSON200.Result.State)

		done, err := api(t).GetApprovalWithResponse(t.Context(), id, &client.GetApprovalParams{RunId: &runID, Wait: ptr("30s")})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, done.StatusCode(), "body: %s", done.Body)
		require.NotNil(t, done.JSON200.Result, "body: %s", done.Body)
		assert.Equal(t, client.ApprovalResult{State: client.ApprovalStateAPPROVED, Comment: "by phone"}, *done.JSON200.Result)

		// The decision closed the request: a second approval finds it closed.
		again, err := api(t).ApproveApprovalWithResponse(t.Context(), id, client.ApproveApprovalRequest{})
		require.NoError(t, err)
		apiProblem(t, again, again.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-closed")
	})
	t.Run("approved by an update without input", func(t *testing.T) {
		id, _ := start(t)
		u, err := api(t).ApproveApprovalWithResponse(t.Context(), id, client.ApproveApprovalRequest{})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, u.StatusCode(), "body: %s", u.Body)
		assert.Equal(t, client.ApprovalStateAPPROVED, u.JSON200.Result.State)
	})
	t.Run("rejected by signal", func(t *testing.T) {
		id, runID := start(t)
		d, err := api(t).DecideApprovalWithResponse(t.Context(), id,
			client.DecideApprovalRequest{Input: client.ApprovalDecision{Approved: false, Comment: ptr("over budget")}})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, d.StatusCode(), "body: %s", d.Body)
		done, err := api(t).GetApprovalWithResponse(t.Context(), id, &client.GetApprovalParams{RunId: &runID, Wait: ptr("30s")})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, done.StatusCode(), "body: %s", done.Body)
		require.NotNil(t, done.JSON200.Result, "body: %s", done.Body)
		assert.Equal(t, client.ApprovalStateREJECTED, done.JSON200.Result.State)
		assert.Equal(t, client.ApprovalStateREJECTED, status(t, id), "a closed approval answers its query")
	})
}

// TestTypedReadOfAnotherType404: a typed operation on an execution of another type answers 404,
// and a signal, query or update does not reach it.
func TestTypedReadOfAnotherType404(t *testing.T) {
	id := uniqueID(t)
	start(t, "Sleep", id, `{"seconds":600}`)
	t.Cleanup(func() { _, _ = api(t).TerminateWorkflowWithResponse(context.Background(), id, client.StopRequest{}) })

	m, err := api(t).GetMoneyTransferWithResponse(t.Context(), id, nil)
	require.NoError(t, err)
	apiProblem(t, m, m.ApplicationproblemJSON404, http.StatusNotFound, "urn:temporal-http:problem:not-found")
	w, err := api(t).GetGreetingWithResponse(t.Context(), id, &client.GetGreetingParams{Wait: ptr("10s")})
	require.NoError(t, err)
	apiProblem(t, w, w.ApplicationproblemJSON404, http.StatusNotFound, "urn:temporal-http:problem:not-found")
	d, err := api(t).DecideApprovalWithResponse(t.Context(), id, client.DecideApprovalRequest{Input: client.ApprovalDecision{Approved: true}})
	require.NoError(t, err)
	apiProblem(t, d, d.ApplicationproblemJSON404, http.StatusNotFound, "urn:temporal-http:problem:not-found")
	s, err := api(t).GetApprovalStatusWithResponse(t.Context(), id, nil)
	require.NoError(t, err)
	apiProblem(t, s, s.ApplicationproblemJSON404, http.StatusNotFound, "urn:temporal-http:problem:not-found")
	u, err := api(t).ApproveApprovalWithResponse(t.Context(), id, client.ApproveApprovalRequest{})
	require.NoError(t, err)
	apiProblem(t, u, u.ApplicationproblemJSON404, http.StatusNotFound, "urn:temporal-http:problem:not-found")

	// The Sleep got no signal: its history holds none.
	h, err := api(t).GetWorkflowHistoryWithResponse(t.Context(), id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, h.StatusCode())
	assert.NotContains(t, string(h.Body), "WORKFLOW_EXECUTION_SIGNALED")
	assert.NotContains(t, string(h.Body), "UPDATE")
}

// TestTypedAndGenericRefuseTheSameInputAlike: a bad input is refused with the same 422, naming
// the same fields, whether it comes to POST /workflows or to the typed resource, and nothing starts.
func TestTypedAndGenericRefuseTheSameInputAlike(t *testing.T) {
	for _, tc := range []struct {
		name, workflowType, path, input string
		fields                          []string
	}{
		{"amount as a string", "MoneyTransfer", "/money-transfers",
			`{"fromAccount":"alice","toAccount":"bob","amount":"250","referenceId":"r"}`, []string{"/input/amount"}},
		{"amount with a fraction", "MoneyTransfer", "/money-transfers",
			`{"fromAccount":"alice","toAccount":"bob","amount":250.0,"referenceId":"r"}`, []string{"/input/amount"}},
		{"missing fields", "MoneyTransfer", "/money-transfers", `{"fromAccount":"alice"}`,
			[]string{"/input/amount", "/input/referenceId", "/input/toAccount"}},
		{"no input at all", "Greeting", "/greetings", ``, []string{"/input/name"}},
		{"a misspelt field", "Sleep", "/sleeps", `{"second":600}`, []string{"/input/second"}},
		{"seconds beyond a duration", "Sleep", "/sleeps", `{"seconds":9223372037}`, []string{"/input/seconds"}},
		{"a field of the wrong type", "Approval", "/approvals", `{"amount":[1]}`, []string{"/input/amount"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := uniqueID(t)
			typed := map[string]any{"workflowId": id}
			generic := map[string]any{"workflowId": id, "workflowType": tc.workflowType}
			if tc.input != "" {
				typed["input"] = json.RawMessage(tc.input)
				generic["input"] = json.RawMessage(tc.input)
			}
			var problems [2]client.Problem
			for i, req := range []struct {
				path string
				body map[string]any
			}{{"/workflows", generic}, {tc.path, typed}} {
				b, err := json.Marshal(req.body)
				require.NoError(t, err)
				resp, err := http.Post(gatewayURL+req.path, "application/json", bytes.NewReader(b))
				require.NoError(t, err)
				raw, err := io.ReadAll(resp.Body)
				require.NoError(t, resp.Body.Close())
				require.NoError(t, err)
				require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s: %s", req.path, raw)
				require.NoError(t, json.Unmarshal(raw, &problems[i]))
				assert.Equal(t, "urn:temporal-http:problem:invalid-input", problems[i].Type, "%s: %s", req.path, raw)
				require.NotNil(t, problems[i].Errors, "%s: %s", req.path, raw)
				var fields []string
				for _, f := range *problems[i].Errors {
					fields = append(fields, f.Field)
				}
				assert.ElementsMatch(t, tc.fields, fields, "%s: %s", req.path, raw)
			}
			assert.Equal(t, problems[0].Errors, problems[1].Errors, "the same fields, in the same words")
			assert.Equal(t, problems[0].Detail, problems[1].Detail)

			// Nothing was started under the id by either.
			g, err := api(t).GetWorkflowWithResponse(t.Context(), id, nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, g.StatusCode())
		})
	}
}

// TestTypedAndGenericRefuseTheSameBodyAlike: what is wrong beside the input is found first, and
// alike, on both paths: a non-object body, a field of the wrong type, a field neither knows.
func TestTypedAndGenericRefuseTheSameBodyAlike(t *testing.T) {
	for _, tc := range []struct{ name, generic, typed string }{
		{"a null body", `null`, `null`},
		{"a workflowId that is a number, and a bad input",
			`{"workflowType":"MoneyTransfer","workflowId":5,"input":{"amount":"x"}}`, `{"workflowId":5,"input":{"amount":"x"}}`},
		{"an unknown field", `{"workflowType":"MoneyTransfer","Input":{}}`, `{"Input":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var types [2]string
			for i, req := range []struct{ path, body string }{{"/workflows", tc.generic}, {"/money-transfers", tc.typed}} {
				resp, err := http.Post(gatewayURL+req.path, "application/json", strings.NewReader(req.body))
				require.NoError(t, err)
				raw, err := io.ReadAll(resp.Body)
				require.NoError(t, resp.Body.Close())
				require.NoError(t, err)
				require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", req.path, raw)
				var p client.Problem
				require.NoError(t, json.Unmarshal(raw, &p))
				types[i] = p.Type
			}
			assert.Equal(t, types[0], types[1])
		})
	}
}

// TestTypedSignalAndUpdateInputsAreCheckedAsAStartsIs: a typed update's or signal's input that
// does not fit its schema is a 422 naming the field, a number with a fraction included, and the
// workflow never sees it.
func TestTypedSignalAndUpdateInputsAreCheckedAsAStartsIs(t *testing.T) {
	id := uniqueID(t)
	s, err := api(t).StartCartWithResponse(t.Context(), nil, client.StartCartRequest{WorkflowId: &id})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, s.StatusCode(), "body: %s", s.Body)
	t.Cleanup(func() { _, _ = api(t).TerminateWorkflowWithResponse(context.Background(), id, client.StopRequest{}) })
	for _, tc := range []struct{ path, body, field string }{
		{"/carts/" + id + "/items", `{"input":{"sku":"A","quantity":2.0,"priceCents":100}}`, "/input/quantity"},
		{"/carts/" + id + "/items", `{"input":{"sku":"A","quantity":0,"priceCents":100}}`, "/input/quantity"},
		{"/carts/" + id + "/items", `{}`, "/input/sku"},
		{"/carts/" + id + "/checkout", `{"input":{"paymentReference":""}}`, "/input/paymentReference"},
	} {
		resp, err := http.Post(gatewayURL+tc.path, "application/json", strings.NewReader(tc.body))
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		require.NoError(t, err)
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s %s: %s", tc.path, tc.body, raw)
		var p client.Problem
		require.NoError(t, json.Unmarshal(raw, &p))
		assert.Equal(t, "urn:temporal-http:problem:invalid-input", p.Type)
		require.NotNil(t, p.Errors)
		assert.Contains(t, fieldsOf(*p.Errors), tc.field, "%s", raw)
	}
	c, err := api(t).GetCartContentsWithResponse(t.Context(), id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, c.StatusCode(), "body: %s", c.Body)
	assert.Empty(t, c.JSON200.Items, "no refused item reached the cart")
}

func fieldsOf(errs []client.FieldError) []string {
	var fields []string
	for _, f := range errs {
		fields = append(fields, f.Field)
	}
	return fields
}

// TestTypedStartUseExistingOfAnotherType409: USE_EXISTING on a typed resource does not answer an
// execution of another type that runs under the id; it is 409 and nothing is started.
func TestTypedStartUseExistingOfAnotherType409(t *testing.T) {
	id := uniqueID(t)
	start(t, "Sleep", id, `{"seconds":600}`)
	t.Cleanup(func() { _, _ = api(t).TerminateWorkflowWithResponse(context.Background(), id, client.StopRequest{}) })
	r, err := api(t).StartMoneyTransferWithResponse(t.Context(), nil, client.StartMoneyTransferRequest{WorkflowId: &id,
		IdConflictPolicy: ptr(client.IdConflictPolicyUSEEXISTING),
		Input:            client.MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1, ReferenceId: id}})
	require.NoError(t, err)
	p := apiProblem(t, r, r.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-already-started")
	require.NotNil(t, p.WorkflowId)
	assert.Equal(t, id, *p.WorkflowId)
}

// TestWorkflowTypesAnswerSchemas: GET /workflow-types gives each type's path and JSON Schemas,
// enough for a form generator: the MoneyTransfer's input requires its four fields, and the
// Approval lists its signal, query and update.
func TestWorkflowTypesAnswerSchemas(t *testing.T) {
	r, err := api(t).ListWorkflowTypesWithResponse(t.Context())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode())
	byName := map[string]client.WorkflowType{}
	for _, wt := range r.JSON200.WorkflowTypes {
		byName[wt.Name] = wt
	}
	mt := byName["MoneyTransfer"]
	assert.Equal(t, "/money-transfers", mt.Path)
	var input struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(mt.Input, &input))
	assert.ElementsMatch(t, []string{"fromAccount", "toAccount", "amount", "referenceId"}, input.Required)
	assert.Contains(t, string(input.Properties["amount"]), `"integer"`)
	assert.NotContains(t, string(mt.Input), "$ref", "self-contained")
	assert.Contains(t, mt.FailureTypes, "InsufficientFundsError")

	ap := byName["Approval"]
	require.Len(t, ap.Signals, 1)
	assert.Equal(t, "decision", ap.Signals[0].Name)
	require.Len(t, ap.Queries, 1)
	assert.Equal(t, "status", ap.Queries[0].Name)
	require.NotNil(t, ap.Queries[0].Result)
	assert.Contains(t, string(*ap.Queries[0].Result), "PENDING")
	require.Len(t, ap.Updates, 1)
	assert.Equal(t, "approve", ap.Updates[0].Name)
}

// TestTypedCart drives the Cart, the sample added by the recipe of docs/workflow-types.md, through
// the operations that recipe gave it: start, the addItem update, the contents query, the checkout
// signal and the typed read of its receipt.
func TestTypedCart(t *testing.T) {
	id := uniqueID(t)
	s, err := api(t).StartCartWithResponse(t.Context(), nil, client.StartCartRequest{WorkflowId: &id,
		Input: &client.CartInput{CustomerId: ptr("c-42")}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, s.StatusCode(), "body: %s", s.Body)
	requireTypedLocation(t, s.Headers201.Location, "/carts", id)

	add := func(item client.CartItem, updateID string) client.CartContents {
		t.Helper()
		u, err := api(t).AddCartItemWithResponse(t.Context(), id, client.AddCartItemRequest{Input: item, UpdateId: &updateID})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, u.StatusCode(), "body: %s", u.Body)
		return u.JSON200.Result
	}
	add(client.CartItem{Sku: "A-1", Quantity: 2, PriceCents: 1250}, "line-1")
	// The same updateId again is the same update: the item is added once.
	add(client.CartItem{Sku: "A-1", Quantity: 2, PriceCents: 1250}, "line-1")
	after := add(client.CartItem{Sku: "B-2", Quantity: 1, PriceCents: 99}, "line-2")
	assert.Equal(t, int64(2599), after.TotalCents)
	assert.Len(t, after.Items, 2)

	c, err := api(t).GetCartContentsWithResponse(t.Context(), id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, c.StatusCode(), "body: %s", c.Body)
	assert.Equal(t, after, *c.JSON200)

	// A bad item is refused before it reaches the workflow.
	bad, err := api(t).AddCartItemWithResponse(t.Context(), id, client.AddCartItemRequest{Input: client.CartItem{Sku: "C-3", Quantity: 0}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode(), "body: %s", bad.Body)

	co, err := api(t).CheckoutCartWithResponse(t.Context(), id, client.CheckoutCartRequest{Input: client.CartCheckout{PaymentReference: "pay-1"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, co.StatusCode(), "body: %s", co.Body)
	done, err := api(t).GetCartWithResponse(t.Context(), id, &client.GetCartParams{RunId: &s.JSON201.RunId, Wait: ptr("30s")})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, done.StatusCode(), "body: %s", done.Body)
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.JSON200.Status, "body: %s", done.Body)
	assert.Equal(t, client.CartReceipt{Items: after.Items, TotalCents: 2599, PaymentReference: "pay-1"}, *done.JSON200.Result)

	// An abandoned cart fails with its typed failure.
	gone := uniqueID(t)
	a, err := api(t).StartCartWithResponse(t.Context(), &client.StartCartParams{Wait: ptr("30s")},
		client.StartCartRequest{WorkflowId: &gone, Input: &client.CartInput{TimeoutSeconds: ptr(int64(1))}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, a.StatusCode(), "body: %s", a.Body)
	require.Equal(t, client.ExecutionStatusFAILED, a.JSON201.Status, "body: %s", a.Body)
	assert.Equal(t, client.CartFailureTypeCartAbandonedError, *a.JSON201.Failure.Type)
}

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	sdkclient "go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/temporalhttp/gateway/client"
	"github.com/temporalhttp/gateway/internal/executions"
)

// Update-with-start against the real dev server and worker, with the Cart sample: "add this item
// to the cart, creating the cart if needed, and tell me the new total".

func cartStart() *client.UpdateWithStart {
	input := json.RawMessage(`{"customerId":"ada","timeoutSeconds":600}`)
	return &client.UpdateWithStart{WorkflowType: "Cart", Input: &input}
}

func addItemWithStart(t *testing.T, id, key, sku string) *client.UpdateWorkflowResponse {
	t.Helper()
	input := json.RawMessage(`{"sku":"` + sku + `","quantity":2,"priceCents":450}`)
	params := &client.UpdateWorkflowParams{}
	if key != "" {
		params.IdempotencyKey = &key
	}
	r, err := api(t).UpdateWorkflowWithResponse(t.Context(), id, "addItem", params,
		client.UpdateRequest{Input: &input, Start: cartStart()})
	require.NoError(t, err)
	return r
}

// updatesIn counts the updates the run accepted.
func updatesIn(t *testing.T, id, runID string) int {
	t.Helper()
	return eventsIn(t, id, runID, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
}

func TestUpdateWithStartCreatesTheCartThenUpdatesIt(t *testing.T) {
	id := uniqueID(t)
	terminateAtEnd(t, id)

	first := addItemWithStart(t, id, "", "tea")
	require.Equal(t, http.StatusCreated, first.StatusCode(), "body: %s", first.Body)
	require.NotNil(t, first.JSON201)
	assert.True(t, *first.JSON201.RunStarted)
	assert.JSONEq(t, `{"items":[{"sku":"tea","quantity":2,"priceCents":450}],"totalCents":900}`, string(first.JSON201.Result))
	runID := *first.JSON201.RunId
	assert.Equal(t, "/workflows/"+id+"?runId="+runID, first.HTTPResponse.Header.Get("Location"))

	second := addItemWithStart(t, id, "", "cake")
	require.Equal(t, http.StatusOK, second.StatusCode(), "body: %s", second.Body)
	assert.False(t, *second.JSON200.RunStarted)
	assert.Equal(t, runID, *second.JSON200.RunId, "the second call updates the same run")
	assert.JSONEq(t, `{"items":[{"sku":"tea","quantity":2,"priceCents":450},{"sku":"cake","quantity":2,"priceCents":450}],"totalCents":1800}`,
		string(second.JSON200.Result))
	assert.Empty(t, second.HTTPResponse.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, 2, updatesIn(t, id, runID))
}

func TestKeyedUpdateWithStartNeverAppliesTheUpdateTwice(t *testing.T) {
	id := uniqueID(t)
	terminateAtEnd(t, id)
	key := "add-tea-" + id

	first := addItemWithStart(t, id, key, "tea")
	require.Equal(t, http.StatusCreated, first.StatusCode(), "body: %s", first.Body)
	runID := *first.JSON201.RunId

	for range 2 {
		retry := addItemWithStart(t, id, key, "tea")
		require.Equal(t, http.StatusOK, retry.StatusCode(), "body: %s", retry.Body)
		assert.Equal(t, "true", retry.HTTPResponse.Header.Get("Idempotent-Replayed"))
		assert.True(t, *retry.JSON200.RunStarted, "the replay says its first request started the run")
		assert.Equal(t, runID, *retry.JSON200.RunId)
		assert.Equal(t, first.JSON201.UpdateId, retry.JSON200.UpdateId)
		assert.JSONEq(t, string(first.JSON201.Result), string(retry.JSON200.Result), "the first update's result")
	}
	assert.Equal(t, 1, updatesIn(t, id, runID), "the retries applied nothing")

	// After the run closed, a retry still starts and applies nothing.
	require.NoError(t, temporalC.SignalWorkflow(t.Context(), id, runID, "checkout", map[string]string{"paymentReference": "p-1"}))
	require.NoError(t, temporalC.GetWorkflow(t.Context(), id, runID).Get(t.Context(), nil))
	late := addItemWithStart(t, id, key, "tea")
	require.Equal(t, http.StatusOK, late.StatusCode(), "body: %s", late.Body)
	assert.JSONEq(t, string(first.JSON201.Result), string(late.JSON200.Result))
	current, status := currentRun(t, id)
	assert.Equal(t, runID, current, "no new run for the retry")
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, status)

	reused := addItemWithStart(t, id, key, "cake")
	require.Equal(t, http.StatusUnprocessableEntity, reused.StatusCode(), "body: %s", reused.Body)
	require.NotNil(t, reused.ApplicationproblemJSON422)
	assert.Equal(t, "urn:temporal-http:problem:idempotency-key-reused", reused.ApplicationproblemJSON422.Type)
}

// What Temporal does when the validator rejects the update of an update-with-start: the start
// stands (the run was started and keeps running), and only the update is refused.
func TestUpdateWithStartRejectedSaysTheRunWasStarted(t *testing.T) {
	id := uniqueID(t)
	terminateAtEnd(t, id)
	bad := json.RawMessage(`{"sku":"","quantity":1,"priceCents":1}`) // the validator refuses an item without a sku
	key := "bad-" + id
	send := func() *client.UpdateWorkflowResponse {
		r, err := api(t).UpdateWorkflowWithResponse(t.Context(), id, "addItem", &client.UpdateWorkflowParams{IdempotencyKey: &key},
			client.UpdateRequest{Input: &bad, Start: cartStart()})
		require.NoError(t, err)
		return r
	}
	r := send()
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode(), "body: %s", r.Body)
	p := r.ApplicationproblemJSON422
	require.NotNil(t, p)
	assert.Equal(t, "urn:temporal-http:problem:rejected-by-workflow", p.Type)
	require.NotNil(t, p.RunStarted)
	assert.True(t, *p.RunStarted, "Temporal started the run before the validator ran")
	require.NotNil(t, p.RunId)
	runID, status := currentRun(t, id)
	assert.Equal(t, runID, *p.RunId)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, status, "the rejection does not undo the start")
	assert.Equal(t, 0, updatesIn(t, id, runID), "a rejected update leaves no trace in the history")

	// The same rejection on the run that is now there: it was found, not started.
	other := json.RawMessage(`{"sku":"","quantity":2,"priceCents":1}`)
	found, err := api(t).UpdateWorkflowWithResponse(t.Context(), id, "addItem", nil, client.UpdateRequest{Input: &other, Start: cartStart()})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, found.StatusCode(), "body: %s", found.Body)
	assert.False(t, *found.ApplicationproblemJSON422.RunStarted)

	// With the run gone, the keyed retry would start a new one, were it sent to Temporal again:
	// it is answered from the key's record instead.
	require.NoError(t, temporalC.TerminateWorkflow(t.Context(), id, runID, "test"))
	again := send()
	require.Equal(t, http.StatusUnprocessableEntity, again.StatusCode(), "body: %s", again.Body)
	assert.Equal(t, runID, *again.ApplicationproblemJSON422.RunId)
	assert.True(t, *again.ApplicationproblemJSON422.RunStarted)
	current, status := currentRun(t, id)
	assert.Equal(t, runID, current, "the retry started no run")
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, status)
}

func TestUpdateWithStartRefusals(t *testing.T) {
	id := uniqueID(t)
	item := json.RawMessage(`{"sku":"tea","quantity":1,"priceCents":1}`)
	key := "k-" + id
	for name, tc := range map[string]struct {
		update string
		params *client.UpdateWorkflowParams
		req    client.UpdateRequest
		status int
	}{
		"an update the type does not have": {"addItme", nil, client.UpdateRequest{Input: &item, Start: cartStart()}, http.StatusBadRequest},
		"a plain update with a key":        {"addItem", &client.UpdateWorkflowParams{IdempotencyKey: &key}, client.UpdateRequest{Input: &item}, http.StatusBadRequest},
		"a start input that does not fit": {"addItem", nil, client.UpdateRequest{Input: &item,
			Start: &client.UpdateWithStart{WorkflowType: "Cart", Input: ptr(json.RawMessage(`{"timeoutSeconds":"soon"}`))}}, http.StatusUnprocessableEntity},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := api(t).UpdateWorkflowWithResponse(t.Context(), id, tc.update, tc.params, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.status, r.StatusCode(), "body: %s", r.Body)
		})
	}
	_, err := temporalC.DescribeWorkflowExecution(t.Context(), id, "")
	require.Error(t, err, "no run was started")
}

// No worker takes the update in time: the answer is a 504 that names the update, whose id lets a
// retry attach to it rather than apply it a second time once a worker comes.
func TestUpdateWithStartWithoutAWorkerIsRetriedOntoTheSameUpdate(t *testing.T) {
	id, queue := uniqueID(t), "uws-"+uniqueID(t)
	terminateAtEnd(t, id)
	item := json.RawMessage(`{"sku":"tea","quantity":2,"priceCents":450}`)
	start := cartStart()
	start.TaskQueue = &queue
	send := func(updateID *string) *client.UpdateWorkflowResponse {
		r, err := api(t).UpdateWorkflowWithResponse(t.Context(), id, "addItem", nil,
			client.UpdateRequest{Input: &item, UpdateId: updateID, Start: start})
		require.NoError(t, err)
		return r
	}

	first := send(nil)
	require.Equal(t, http.StatusGatewayTimeout, first.StatusCode(), "body: %s", first.Body)
	p := first.ApplicationproblemJSON504
	require.NotNil(t, p)
	require.NotNil(t, p.UpdateId, "the problem names the update: %s", first.Body)
	updateID := *p.UpdateId

	again := send(&updateID)
	require.Equal(t, http.StatusGatewayTimeout, again.StatusCode(), "body: %s", again.Body)

	startWorker(t, "TEMPORAL_ADDRESS="+temporalAddr, "TEMPORAL_TASK_QUEUE="+queue)
	done := send(&updateID)
	require.Equal(t, http.StatusOK, done.StatusCode(), "body: %s", done.Body)
	assert.Equal(t, updateID, done.JSON200.UpdateId)
	assert.False(t, *done.JSON200.RunStarted)
	assert.JSONEq(t, `{"items":[{"sku":"tea","quantity":2,"priceCents":450}],"totalCents":900}`, string(done.JSON200.Result),
		"one item: the retries attached to the first update")
	runID, _ := currentRun(t, id)
	assert.Equal(t, 1, updatesIn(t, id, runID))
}

// The SDK's gRPC retry sends a multi-operation again when its answer is lost; Temporal answers
// the repeat, which it recognises by its request id, as "not started". The gateway's adapter
// looks the request id up on the run, and says truthfully that it started it.
func TestUpdateWithStartWhoseFirstAnswerWasLostSaysItStartedTheRun(t *testing.T) {
	var dropped atomic.Bool
	lose := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if _, multi := req.(*workflowservice.ExecuteMultiOperationRequest); multi && err == nil && dropped.CompareAndSwap(false, true) {
			return status.Error(codes.Unavailable, "the answer was lost on the way")
		}
		return err
	}
	// Inside the gateway's own interceptor, as the network is: the answer is lost before the
	// adapter sees it.
	opts := executions.ClientOptions(sdkclient.Options{HostPort: temporalAddr, Namespace: "default"})
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(lose))
	c, err := sdkclient.Dial(opts)
	require.NoError(t, err)
	defer c.Close()

	id := uniqueID(t)
	terminateAtEnd(t, id)
	answer, err := executions.NewSDK(c).Start(t.Context(), executions.StartCall{
		Options: sdkclient.StartWorkflowOptions{ID: id, TaskQueue: taskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING},
		WorkflowType: "Cart", Args: []any{json.RawMessage(`{"customerId":"ada"}`)},
		Update: &executions.UpdateCall{Name: "addItem", ID: "u-1", Arg: json.RawMessage(`{"sku":"tea","quantity":1,"priceCents":1}`)},
	})
	require.NoError(t, err)
	require.True(t, dropped.Load(), "the first answer was lost")
	require.NotNil(t, answer.Update)
	require.NoError(t, answer.Update.Err)
	assert.True(t, answer.Started, "the lost attempt started the run")
	assert.Equal(t, 1, updatesIn(t, id, answer.RunID))
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/temporalhttp/gateway/client"
	"github.com/temporalhttp/gateway/internal/auth/authtest"
	"github.com/temporalhttp/gateway/internal/faulttest"
)

// These tests hold the gateway to its Idempotency-Key promise against the real dev server and
// worker: a retry of a keyed request never starts, signals or terminates anything twice, whatever
// the workflow id, the conflict policy and the state of the run; a 422 means nothing happened;
// and keys belong to their caller.

// keyed sends req with an Idempotency-Key through c.
func keyed(t *testing.T, c *client.ClientWithResponses, key string, req client.StartWorkflowRequest, wait string, editors ...client.RequestEditorFn) *client.StartWorkflowResponse {
	t.Helper()
	params := &client.StartWorkflowParams{IdempotencyKey: &key}
	if wait != "" {
		params.Wait = &wait
	}
	r, err := c.StartWorkflowWithResponse(t.Context(), params, req, editors...)
	require.NoError(t, err)
	return r
}

// replayOf requires r to be a 200 that replays the run runID, and returns its execution.
func replayOf(t *testing.T, r *client.StartWorkflowResponse, runID string) client.Execution {
	t.Helper()
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	assert.Equal(t, "true", r.HTTPResponse.Header.Get("Idempotent-Replayed"))
	require.NotNil(t, r.JSON200)
	assert.Equal(t, runID, r.JSON200.RunId, "the retry answers the first run")
	return *r.JSON200
}

// currentRun is the run that holds id in Temporal now.
func currentRun(t *testing.T, id string) (runID string, status enumspb.WorkflowExecutionStatus) {
	t.Helper()
	desc, err := temporalC.DescribeWorkflowExecution(t.Context(), id, "")
	require.NoError(t, err)
	info := desc.GetWorkflowExecutionInfo()
	return info.GetExecution().GetRunId(), info.GetStatus()
}

// signalsIn counts the signals the run received.
func signalsIn(t *testing.T, id, runID string) int {
	t.Helper()
	return eventsIn(t, id, runID, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
}

// eventsIn counts the events of type typ in the run's history.
func eventsIn(t *testing.T, id, runID string, typ enumspb.EventType) int {
	t.Helper()
	n := 0
	events := temporalC.GetWorkflowHistory(t.Context(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for events.HasNext() {
		e, err := events.Next()
		require.NoError(t, err)
		if e.GetEventType() == typ {
			n++
		}
	}
	return n
}

// terminateAtEnd ends a run the test leaves running.
func terminateAtEnd(t *testing.T, id string) {
	t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.Background(), id, "", "test over") })
}

func TestKeyedStartRetriedAfterTheRunClosedMovesMoneyOnce(t *testing.T) {
	queue := uniqueID(t)
	ledger := filepath.Join(t.TempDir(), "bank.json")
	startWorker(t, "TEMPORAL_ADDRESS="+temporalAddr, "TEMPORAL_TASK_QUEUE="+queue, "WORKER_BANK_FILE="+ledger)
	c := api(t)
	transfers := 0
	for _, policy := range []client.IdConflictPolicy{
		client.IdConflictPolicyFAIL,
		client.IdConflictPolicyUSEEXISTING,
		client.IdConflictPolicyTERMINATEEXISTING,
	} {
		t.Run(string(policy), func(t *testing.T) {
			id := "transfer-9-" + uniqueID(t)
			req := client.StartWorkflowRequest{WorkflowType: "MoneyTransfer", WorkflowId: &id, TaskQueue: &queue,
				IdConflictPolicy: &policy,
				Input:            rawJSON(fmt.Sprintf(`{"fromAccount":"alice","toAccount":"bob","amount":100,"referenceId":%q}`, id))}
			first := keyed(t, c, "K-"+id, req, "30s")
			require.Equal(t, http.StatusCreated, first.StatusCode(), "body: %s", first.Body)
			require.Equal(t, client.ExecutionStatusCOMPLETED, first.JSON201.Status, "body: %s", first.Body)
			transfers++

			for range 2 {
				again := replayOf(t, keyed(t, c, "K-"+id, req, "30s"), first.JSON201.RunId)
				assert.Equal(t, client.ExecutionStatusCOMPLETED, again.Status)
				assert.JSONEq(t, string(*first.JSON201.Result), string(*again.Result))
			}
			runID, _ := currentRun(t, id)
			assert.Equal(t, first.JSON201.RunId, runID, "no second run of the id")
			l := faulttest.ReadLedger(t, ledger)
			assert.Equal(t, 2*transfers, l.Transactions, "each transfer withdrew and deposited once")
			assert.Equal(t, int64(100_000-100*transfers), l.Balances["alice"])
		})
	}
}

func TestKeyedSignalWithStartRetriedAfterTheRunClosed(t *testing.T) {
	c := api(t)
	approve := rawJSON(`{"approved":true,"comment":"keyed"}`)
	input := rawJSON(`{"requestId":"r-1","amount":10,"approver":"grace"}`)

	t.Run("the run it started", func(t *testing.T) {
		id := uniqueID(t)
		req := client.StartWorkflowRequest{WorkflowType: "Approval", WorkflowId: &id, Input: input,
			Signal: &client.StartSignal{Name: "decision", Input: approve}}
		first := keyed(t, c, "K-"+id, req, "20s")
		require.Equal(t, http.StatusCreated, first.StatusCode(), "body: %s", first.Body)
		require.Equal(t, client.ExecutionStatusCOMPLETED, first.JSON201.Status)
		again := replayOf(t, keyed(t, c, "K-"+id, req, ""), first.JSON201.RunId)
		assert.Equal(t, client.ExecutionStatusCOMPLETED, again.Status)
		runID, _ := currentRun(t, id)
		assert.Equal(t, first.JSON201.RunId, runID, "no second run of the id")
	})
	t.Run("the running run it signalled", func(t *testing.T) {
		id := startApproval(t, 3600)
		runID, _ := currentRun(t, id)
		req := client.StartWorkflowRequest{WorkflowType: "Approval", WorkflowId: &id, Input: input,
			Signal: &client.StartSignal{Name: "decision", Input: approve}}
		first := keyed(t, c, "K-"+id, req, "20s")
		require.Equal(t, http.StatusOK, first.StatusCode(), "body: %s", first.Body)
		assert.Empty(t, first.HTTPResponse.Header.Get("Idempotent-Replayed"), "this request delivered the signal")
		require.Equal(t, runID, first.JSON200.RunId)
		require.Equal(t, client.ExecutionStatusCOMPLETED, first.JSON200.Status, "the signal approved it")

		again := replayOf(t, keyed(t, c, "K-"+id, req, ""), runID)
		assert.Equal(t, client.ExecutionStatusCOMPLETED, again.Status)
		now, _ := currentRun(t, id)
		assert.Equal(t, runID, now, "no run started after the signalled run closed")
		assert.Equal(t, 1, signalsIn(t, id, runID))
	})
}

// TestKeyedSignalToARunThatAnotherFollowed signals a running run, which then closes and is
// followed by another run of the id (as an entity that continues as new is): a retry must answer
// the run it signalled and signal nothing.
func TestKeyedSignalToARunThatAnotherFollowed(t *testing.T) {
	c := api(t)
	id := startApproval(t, 3600)
	terminateAtEnd(t, id)
	signalled, _ := currentRun(t, id)
	req := client.StartWorkflowRequest{WorkflowType: "Approval", WorkflowId: &id,
		Input:  rawJSON(`{"requestId":"r-4","amount":10,"approver":"grace","timeoutSeconds":3600}`),
		Signal: &client.StartSignal{Name: "note", Input: rawJSON(`{"text":"once"}`)}}
	first := keyed(t, c, "K-"+id, req, "")
	require.Equal(t, http.StatusOK, first.StatusCode(), "body: %s", first.Body)
	require.Equal(t, signalled, first.JSON200.RunId)

	require.NoError(t, temporalC.TerminateWorkflow(t.Context(), id, signalled, "the entity moves on"))
	next, err := api(t).StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{WorkflowType: "Approval",
		WorkflowId: &id, Input: rawJSON(`{"requestId":"r-4","amount":10,"approver":"grace","timeoutSeconds":3600}`)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, next.StatusCode(), "body: %s", next.Body)

	again := replayOf(t, keyed(t, c, "K-"+id, req, ""), signalled)
	assert.Equal(t, client.ExecutionStatusTERMINATED, again.Status)
	assert.Zero(t, signalsIn(t, id, next.JSON201.RunId), "the run that followed got no signal")
	assert.Equal(t, 1, signalsIn(t, id, signalled))
}

func TestKeyedSignalWithStartTerminateExistingRetried(t *testing.T) {
	c := api(t)
	// "note" is a signal the Approval workflow does not act on: the run keeps running.
	note := &client.StartSignal{Name: "note", Input: rawJSON(`{"text":"hello"}`)}
	input := rawJSON(`{"requestId":"r-2","amount":10,"approver":"grace","timeoutSeconds":3600}`)
	terminate := client.IdConflictPolicyTERMINATEEXISTING

	t.Run("retried one after another", func(t *testing.T) {
		id := startApproval(t, 3600)
		terminateAtEnd(t, id)
		other, _ := currentRun(t, id)
		req := client.StartWorkflowRequest{WorkflowType: "Approval", WorkflowId: &id, Input: input, Signal: note, IdConflictPolicy: &terminate}
		first := keyed(t, c, "K-"+id, req, "")
		require.Equal(t, http.StatusCreated, first.StatusCode(), "body: %s", first.Body)
		assert.NotEqual(t, other, first.JSON201.RunId)
		desc, err := temporalC.DescribeWorkflowExecution(t.Context(), id, other)
		require.NoError(t, err)
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, desc.GetWorkflowExecutionInfo().GetStatus(),
			"the run another request started was ended")

		for range 3 {
			replayOf(t, keyed(t, c, "K-"+id, req, ""), first.JSON201.RunId)
		}
		runID, status := currentRun(t, id)
		assert.Equal(t, first.JSON201.RunId, runID)
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, status, "the key's own run was not terminated")
		assert.Equal(t, 1, signalsIn(t, id, runID))
	})

	t.Run("twenty at once", func(t *testing.T) {
		id := startApproval(t, 3600)
		terminateAtEnd(t, id)
		other, _ := currentRun(t, id)
		req := client.StartWorkflowRequest{WorkflowType: "Approval", WorkflowId: &id, Input: input, Signal: note, IdConflictPolicy: &terminate}
		const n = 20
		answers := make([]*client.StartWorkflowResponse, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { answers[i] = keyed(t, c, "K-"+id, req, "") })
		}
		wg.Wait()
		runID, status := currentRun(t, id)
		assert.NotEqual(t, other, runID)
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, status, "the key's run was not terminated by its twins")
		for _, a := range answers {
			require.Contains(t, []int{http.StatusCreated, http.StatusOK}, a.StatusCode(), "body: %s", a.Body)
			got := a.JSON201
			if got == nil {
				got = a.JSON200
			}
			assert.Equal(t, runID, got.RunId, "every answer names the one run")
		}
		assert.Equal(t, 1, signalsIn(t, id, runID), "the signal was delivered once")
		// Every run of the id: the one another request started, and the key's, and no other.
		var statuses map[string]enumspb.WorkflowExecutionStatus
		require.Eventually(t, func() bool {
			list, err := temporalC.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
				Query: fmt.Sprintf("WorkflowId = '%s'", id)})
			if err != nil {
				return false
			}
			statuses = map[string]enumspb.WorkflowExecutionStatus{}
			for _, e := range list.GetExecutions() {
				statuses[e.GetExecution().GetRunId()] = e.GetStatus()
			}
			return len(statuses) >= 2 && statuses[other] == enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
		}, 10*time.Second, 100*time.Millisecond)
		assert.Equal(t, map[string]enumspb.WorkflowExecutionStatus{
			other: enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED,
			runID: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		}, statuses)
	})
}

// TestTemporalRequestIDs pins down what Temporal server 1.29.1 does with a request id, which the
// gateway's keyed starts rely on and work around: a start is recognised by its request id while
// its run holds the id, running or closed; a signal-with-start delivers one signal per request
// id to a running run, but reuses the id after a closed run, and with TERMINATE_EXISTING ends a
// running run whatever request id started it.
func TestTemporalRequestIDs(t *testing.T) {
	ctx := t.Context()
	svc := temporalC.WorkflowService()
	dc := converter.GetDefaultDataConverter()
	input, err := dc.ToPayloads(map[string]any{"requestId": "r", "timeoutSeconds": 3600})
	require.NoError(t, err)
	startReq := func(id, requestID string) *workflowservice.StartWorkflowExecutionRequest {
		return &workflowservice.StartWorkflowExecutionRequest{Namespace: "default", WorkflowId: id, RequestId: requestID,
			WorkflowType: &commonpb.WorkflowType{Name: "Approval"}, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue}, Input: input}
	}
	signalReq := func(id, requestID string, policy enumspb.WorkflowIdConflictPolicy) *workflowservice.SignalWithStartWorkflowExecutionRequest {
		return &workflowservice.SignalWithStartWorkflowExecutionRequest{Namespace: "default", WorkflowId: id, RequestId: requestID,
			WorkflowType: &commonpb.WorkflowType{Name: "Approval"}, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue}, Input: input,
			SignalName: "note", WorkflowIdConflictPolicy: policy}
	}

	t.Run("a start is answered with the run its request id started, running or closed", func(t *testing.T) {
		id := uniqueID(t)
		first, err := svc.StartWorkflowExecution(ctx, startReq(id, "req-"+id))
		require.NoError(t, err)
		again, err := svc.StartWorkflowExecution(ctx, startReq(id, "req-"+id))
		require.NoError(t, err)
		assert.Equal(t, first.GetRunId(), again.GetRunId())
		assert.True(t, again.GetStarted(), "Temporal says started for the repeat too")
		require.NoError(t, temporalC.TerminateWorkflow(ctx, id, first.GetRunId(), "closed for the test"))
		again, err = svc.StartWorkflowExecution(ctx, startReq(id, "req-"+id))
		require.NoError(t, err)
		assert.Equal(t, first.GetRunId(), again.GetRunId(), "no new run after the first closed")
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, again.GetStatus(), "the status tells a repeat apart")
	})
	t.Run("a signal-with-start signals once per request id, while the run runs", func(t *testing.T) {
		id := uniqueID(t)
		terminateAtEnd(t, id)
		first, err := svc.SignalWithStartWorkflowExecution(ctx, signalReq(id, "req-"+id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING))
		require.NoError(t, err)
		again, err := svc.SignalWithStartWorkflowExecution(ctx, signalReq(id, "req-"+id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING))
		require.NoError(t, err)
		assert.Equal(t, first.GetRunId(), again.GetRunId())
		assert.False(t, again.GetStarted())
		assert.Equal(t, 1, signalsIn(t, id, first.GetRunId()))
	})
	t.Run("a signal-with-start after the run closed starts another", func(t *testing.T) {
		id := uniqueID(t)
		terminateAtEnd(t, id)
		first, err := svc.SignalWithStartWorkflowExecution(ctx, signalReq(id, "req-"+id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING))
		require.NoError(t, err)
		require.NoError(t, temporalC.TerminateWorkflow(ctx, id, first.GetRunId(), "closed for the test"))
		again, err := svc.SignalWithStartWorkflowExecution(ctx, signalReq(id, "req-"+id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING))
		require.NoError(t, err)
		assert.True(t, again.GetStarted())
		assert.NotEqual(t, first.GetRunId(), again.GetRunId(), "the repeated request id did not stop a second run")
	})
	t.Run("a signal-with-start with TERMINATE_EXISTING ends the run its own request id started", func(t *testing.T) {
		id := uniqueID(t)
		terminateAtEnd(t, id)
		first, err := svc.SignalWithStartWorkflowExecution(ctx, signalReq(id, "req-"+id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING))
		require.NoError(t, err)
		again, err := svc.SignalWithStartWorkflowExecution(ctx, signalReq(id, "req-"+id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING))
		require.NoError(t, err)
		assert.NotEqual(t, first.GetRunId(), again.GetRunId())
		desc, err := temporalC.DescribeWorkflowExecution(ctx, id, first.GetRunId())
		require.NoError(t, err)
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, desc.GetWorkflowExecutionInfo().GetStatus())
	})
}

func TestKeyReusedWithAnotherBodyDoesNothing(t *testing.T) {
	c := api(t)
	id := uniqueID(t)
	terminateAtEnd(t, id)
	input := rawJSON(`{"requestId":"r-3","amount":10,"approver":"grace","timeoutSeconds":3600}`)
	first := keyed(t, c, "K-"+id, client.StartWorkflowRequest{WorkflowType: "Approval", WorkflowId: &id, Input: input}, "")
	require.Equal(t, http.StatusCreated, first.StatusCode(), "body: %s", first.Body)

	r := keyed(t, c, "K-"+id, client.StartWorkflowRequest{WorkflowType: "Approval", WorkflowId: &id, Input: input,
		Signal: &client.StartSignal{Name: "decision", Input: rawJSON(`{"approved":true}`)}}, "")
	p := apiProblem(t, r, r.ApplicationproblemJSON422, http.StatusUnprocessableEntity, "urn:temporal-http:problem:idempotency-key-reused")
	assert.Equal(t, first.JSON201.RunId, *p.RunId)
	assert.Zero(t, signalsIn(t, id, first.JSON201.RunId), "the signal was not delivered")
	assert.Equal(t, "PENDING", queryState(t, id))
}

func TestIdempotencyKeysBelongToTheirCaller(t *testing.T) {
	aliceKey, aliceEntry := mintKey(t, "alice", "read+start")
	bobKey, bobEntry := mintKey(t, "bob", "read+start")
	const audience = "e2e-keys"
	idp := authtest.NewIssuer(t, "RS256", "")
	keyFile := filepath.Join(t.TempDir(), "idp.pem")
	require.NoError(t, os.WriteFile(keyFile, idp.PublicPEM(t), 0o600))
	gw, base, err := startGateway([]string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue, "GATEWAY_HTTP_ADDR=127.0.0.1:0",
		"GATEWAY_API_KEYS=" + aliceEntry + "," + bobEntry, "GATEWAY_JWT_KEY_FILE=" + keyFile, "GATEWAY_JWT_AUDIENCE=" + audience,
	})
	require.NoError(t, err)
	t.Cleanup(gw.stop)
	require.NoError(t, waitReady(base))
	c := apiAt(t, base)
	greeting := client.StartWorkflowRequest{WorkflowType: "Greeting", Input: rawJSON(`{"name":"Ada"}`)}
	callers := map[string]client.RequestEditorFn{
		"API key alice": apiKey(aliceKey), "API key bob": apiKey(bobKey),
		"token of carol": bearerToken(idp.Token(t, authtest.Claims(audience, "carol", "read start"))),
		"token of dave":  bearerToken(idp.Token(t, authtest.Claims(audience, "dave", "read start"))),
	}
	key := "shared-" + uniqueID(t)

	t.Run("without a workflowId each caller's key names its own execution", func(t *testing.T) {
		seen := map[string]string{}
		for name, as := range callers {
			r := keyed(t, c, key, greeting, "", as)
			require.Equal(t, http.StatusCreated, r.StatusCode(), "%s: %s", name, r.Body)
			for other, id := range seen {
				assert.NotEqual(t, id, r.JSON201.WorkflowId, "%s and %s share an execution", name, other)
			}
			seen[name] = r.JSON201.WorkflowId
			replayOf(t, keyed(t, c, key, greeting, "", as), r.JSON201.RunId)
		}
	})
	t.Run("with a workflowId another caller's key is no replay", func(t *testing.T) {
		id, key := uniqueID(t), "shared-"+uniqueID(t)
		terminateAtEnd(t, id)
		sleep := client.StartWorkflowRequest{WorkflowType: "Sleep", WorkflowId: &id, Input: rawJSON(`{"seconds":60}`)}
		first := keyed(t, c, key, sleep, "", callers["API key alice"])
		require.Equal(t, http.StatusCreated, first.StatusCode(), "body: %s", first.Body)
		r := keyed(t, c, key, sleep, "", callers["API key bob"])
		assert.Empty(t, r.HTTPResponse.Header.Get("Idempotent-Replayed"))
		p := apiProblem(t, r, r.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-already-started")
		assert.Equal(t, id, *p.WorkflowId, "bob learns the id is taken, as without a key, and nothing of alice's execution")
	})
}

func TestIdempotencyFingerprintIsOfTheRequestsMeaning(t *testing.T) {
	c := api(t)
	send := func(key, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, gatewayURL+"/workflows", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, tc := range []struct{ name, first, retry string }{
		{"explicit defaults", `{"workflowType":"Echo","input":{"a":1}}`,
			`{"workflowType":"Echo","input":{"a":1},"idConflictPolicy":"FAIL","idReusePolicy":"ALLOW_DUPLICATE","memo":{}}`},
		{"null input", `{"workflowType":"Echo"}`, `{"workflowType":"Echo","input":null}`},
		{"key order and spacing", `{"workflowType":"Echo","input":{"a":1,"b":[1,{"y":2,"x":3}]}}`,
			` { "input" : { "b" : [ 1 , { "x" : 3 , "y" : 2 } ] , "a" : 1 } , "workflowType" : "Echo" } `},
		{"the same duration", `{"workflowType":"Echo","executionTimeout":"90s"}`, `{"workflowType":"Echo","executionTimeout":"1m30s"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := uniqueID(t)
			first := send(key, tc.first)
			require.Equal(t, http.StatusCreated, first.StatusCode)
			retry := send(key, tc.retry)
			require.Equal(t, http.StatusOK, retry.StatusCode, "the same request, spelled otherwise, is a replay")
			assert.Equal(t, "true", retry.Header.Get("Idempotent-Replayed"))
			assert.Equal(t, first.Header.Get("Location"), retry.Header.Get("Location"))
		})
	}
	for _, tc := range []struct{ name, body string }{
		{"a key given twice", `{"workflowType":"Echo","input":{"a":1,"a":2}}`},
		{"invalid UTF-8", "{\"workflowType\":\"Echo\",\"input\":\"\xff\"}"},
	} {
		t.Run(tc.name+" is refused before anything is recorded", func(t *testing.T) {
			key := uniqueID(t)
			resp := send(key, tc.body)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			// Had the key been recorded, a valid request under it would be a replay or a 422.
			r := keyed(t, c, key, client.StartWorkflowRequest{WorkflowType: "Echo", Input: rawJSON(`{"a":1}`)}, "")
			assert.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		})
	}
}

func TestStartOnlyOnTheDeploymentsTaskQueue(t *testing.T) {
	gw, base, err := startGateway([]string{"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue,
		"GATEWAY_HTTP_ADDR=127.0.0.1:0", "GATEWAY_TASK_QUEUES=reports"})
	require.NoError(t, err)
	t.Cleanup(gw.stop)
	require.NoError(t, waitReady(base))
	c := apiAt(t, base)
	for _, tc := range []struct {
		queue   string
		allowed bool
	}{{taskQueue, true}, {"reports", true}, {"payments-internal", false}} {
		t.Run(tc.queue, func(t *testing.T) {
			id := uniqueID(t)
			terminateAtEnd(t, id)
			r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
				WorkflowType: "Greeting", WorkflowId: &id, TaskQueue: &tc.queue, Input: rawJSON(`{"name":"Ada"}`)})
			require.NoError(t, err)
			if tc.allowed {
				require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
				return
			}
			apiProblem(t, r, r.ApplicationproblemJSON403, http.StatusForbidden, "urn:temporal-http:problem:task-queue-not-allowed")
			_, err = temporalC.DescribeWorkflowExecution(t.Context(), id, "")
			assert.Error(t, err, "nothing was started")
		})
	}
}

// TestIdempotencyRecordsStayOutOfLists: a keyed start with a workflowId keeps its outcome in a
// record execution, which is closed once the start is done and which lists do not show.
func TestIdempotencyRecordsStayOutOfLists(t *testing.T) {
	id := uniqueID(t)
	r := keyed(t, api(t), "K-"+id, client.StartWorkflowRequest{WorkflowType: "Echo", WorkflowId: &id, Input: rawJSON(`1`)}, "")
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	recordType := "TemporalHttpGateway.IdempotencyKey"
	list, err := api(t).ListWorkflowsWithResponse(t.Context(), &client.ListWorkflowsParams{WorkflowType: &recordType})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode(), "body: %s", list.Body)
	assert.Empty(t, list.JSON200.Executions, "the gateway's list leaves records out")

	query := fmt.Sprintf("TemporalNamespaceDivision = 'temporal-http-gateway.idempotency-keys' AND WorkflowType = '%s'", recordType)
	require.Eventually(t, func() bool {
		records, err := temporalC.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			return false
		}
		for _, e := range records.GetExecutions() {
			if strings.Contains(string(e.GetMemo().GetFields()["__gatewayIdempotency"].GetData()), id) {
				return e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "the record is in its own division, closed with the outcome")
}

// TestKeyedTwinsWithAWorkflowIDStartOneRun sends twenty identical keyed starts of one workflow id
// at once, over a run another request left closed (so that Temporal would let the id be used
// again): one answers 201, every other one the same run (200, replayed) or that the key is in
// use (409 with Retry-After), and Temporal holds one new run.
func TestKeyedTwinsWithAWorkflowIDStartOneRun(t *testing.T) {
	c := api(t)
	id := uniqueID(t)
	terminateAtEnd(t, id)
	earlier := start(t, "Echo", id, `1`).JSON201.RunId
	waitClosed(t, "/workflows/"+id+"?runId="+earlier)
	req := client.StartWorkflowRequest{WorkflowType: "Sleep", WorkflowId: &id, Input: rawJSON(`{"seconds":60}`)}
	const n = 20
	answers := make([]*client.StartWorkflowResponse, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i] = keyed(t, c, "K-"+id, req, "") })
	}
	wg.Wait()
	runID, status := currentRun(t, id)
	require.NotEqual(t, earlier, runID)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, status)
	created := 0
	for _, a := range answers {
		switch a.StatusCode() {
		case http.StatusCreated:
			created++
			assert.Equal(t, runID, a.JSON201.RunId)
		case http.StatusOK:
			replayOf(t, a, runID)
		default:
			apiProblem(t, a, a.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:idempotency-key-in-use")
			assert.NotEmpty(t, a.HTTPResponse.Header.Get("Retry-After"))
		}
	}
	assert.Equal(t, 1, created, "one request started the run")
	// A retry once the dust settles is answered with the run.
	replayOf(t, keyed(t, c, "K-"+id, req, ""), runID)
}

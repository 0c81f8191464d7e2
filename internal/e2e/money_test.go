package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/temporalhttp/gateway/client"
	"github.com/temporalhttp/gateway/internal/faulttest"
	"github.com/temporalhttp/gateway/internal/temporal"
)

// The MoneyTransfer ledger under the ways money goes astray: a transfer canceled halfway, a
// transfer whose execution was terminated or timed out halfway, and the same referenceId sent
// again, by a second execution or by a reset of the first. Each test runs a worker of its own on a
// task queue and a ledger file of its own, so the balances it reads in the file move only by its
// own transfers.

// moneyWorker starts a worker with a ledger file on a task queue of its own, with env added, and
// returns the queue and the file.
func moneyWorker(t *testing.T, env ...string) (queue, ledger string) {
	t.Helper()
	queue = uniqueID(t)
	ledger = filepath.Join(t.TempDir(), "bank.json")
	startWorker(t, append([]string{"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + queue,
		"WORKER_BANK_FILE=" + ledger}, env...)...)
	return queue, ledger
}

// ledgerBalances reads the balances in the ledger file: the seed until the first movement.
func ledgerBalances(t *testing.T, ledger string) map[string]int64 {
	t.Helper()
	return faulttest.ReadLedger(t, ledger).Balances
}

// moved returns balances after amount cents went from one account to another.
func moved(balances map[string]int64, from, to string, amount int64) map[string]int64 {
	out := maps.Clone(balances)
	out[from] -= amount
	out[to] += amount
	return out
}

func transferInput(t *testing.T, from, to string, amount int64, ref string) string {
	t.Helper()
	in, err := json.Marshal(temporal.MoneyTransferInput{FromAccount: from, ToAccount: to, Amount: amount, ReferenceID: ref})
	require.NoError(t, err)
	return string(in)
}

// requireFailure requires a FAILED execution with the application error type typ.
func requireFailure(t *testing.T, e client.Execution, typ string) {
	t.Helper()
	require.Equal(t, client.ExecutionStatusFAILED, e.Status, "result: %s", e.Result)
	require.NotNil(t, e.Failure)
	require.NotNil(t, e.Failure.Type, "failure: %+v", e.Failure)
	assert.Equal(t, typ, *e.Failure.Type, "failure: %s", e.Failure.Message)
}

// TestMoneyTransferCanceledMidway cancels a MoneyTransfer through the gateway while its withdrawal,
// and then while its deposit, has moved money in the ledger but not yet reported it: the worker
// holds every movement for WORKER_BANK_DELAY, heartbeating, so the cancel reaches the activity,
// which then reports itself canceled although the money moved. The execution must end CANCELED
// with every cent back where it was. A later execution with the same referenceId answers that the
// transfer was canceled and moves nothing.
func TestMoneyTransferCanceledMidway(t *testing.T) {
	queue, ledger := moneyWorker(t, "WORKER_BANK_DELAY=8s")
	c := api(t)
	const amount = 1_000
	seed := temporal.SeedAccounts
	tests := []struct {
		name      string
		moved     func(balances map[string]int64) bool // the movement the cancel must fall behind
		wantSteps []string                             // the activities of the run and how each ended
	}{
		{
			name:      "during the withdrawal",
			moved:     func(b map[string]int64) bool { return b["alice"] == seed["alice"]-amount },
			wantSteps: []string{"WithdrawForTransfer canceled", "UndoTransfer completed"},
		},
		{
			name:      "during the deposit",
			moved:     func(b map[string]int64) bool { return b["bob"] == seed["bob"]+amount },
			wantSteps: []string{"WithdrawForTransfer completed", "DepositForTransfer canceled", "UndoTransfer completed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := uniqueID(t)
			input := transferInput(t, "alice", "bob", amount, ref)
			runID := startOn(t, c, queue, "MoneyTransfer", ref, input)
			for deadline := time.Now().Add(30 * time.Second); !tt.moved(ledgerBalances(t, ledger)); time.Sleep(20 * time.Millisecond) {
				require.True(t, time.Now().Before(deadline), "the movement was not recorded within 30s: %v", ledgerBalances(t, ledger))
			}
			canceled := time.Now()
			r, err := c.CancelWorkflowWithResponse(t.Context(), ref, client.StopRequest{Reason: ptr("changed my mind")})
			require.NoError(t, err)
			require.Equal(t, http.StatusAccepted, r.StatusCode(), "body: %s", r.Body)

			e := closedRun(t, c, ref, runID)
			t.Logf("closed %s %s after the cancel", e.Status, time.Since(canceled).Round(100*time.Millisecond))
			assert.Equal(t, client.ExecutionStatusCANCELED, e.Status, "failure: %+v, result: %s", e.Failure, e.Result)
			assert.Equal(t, tt.wantSteps, activitySteps(t, ref, runID),
				"the step that had moved the money reported itself canceled, and the refund ran after it")
			after := ledgerBalances(t, ledger)
			assert.Equal(t, faulttest.Total(seed), faulttest.Total(after), "no money appeared or vanished")
			assert.Equal(t, seed, after, "alice has her money back, bob has nothing more")

			again := uniqueID(t)
			requireFailure(t, closedRun(t, c, again, startOn(t, c, queue, "MoneyTransfer", again, input)), "TransferCanceledError")
			assert.Equal(t, seed, ledgerBalances(t, ledger), "the canceled reference moves nothing later")
		})
	}
}

// TestMoneyTransferCarriedOnAfterItsExecutionStopped cuts a transfer's first execution off between
// its withdrawal and its deposit, while the worker holds the withdrawal (WORKER_BANK_DELAY):
// terminated through the gateway, or timed out by its own executionTimeout. The ledger file then
// shows alice debited and bob not credited, and nothing is left running to finish or undo the
// transfer. A second execution with the same referenceId, under another workflow id, carries the
// transfer on: it completes it with the first's withdrawal; or, canceled while its deposit is
// held, it gives alice her money back, and a third execution answers that the transfer was
// canceled. Neither waits for the first execution, which will never answer.
func TestMoneyTransferCarriedOnAfterItsExecutionStopped(t *testing.T) {
	queue, ledger := moneyWorker(t, "WORKER_BANK_DELAY=4s")
	c := api(t)
	const amount = 1_000
	tests := []struct {
		name string
		// executionTimeout cuts the first execution off; without it, a terminate does.
		executionTimeout string
		cancelSecond     bool
	}{
		{name: "terminated: a second execution completes the transfer"},
		{name: "timed out: a second execution, canceled, gives the money back", executionTimeout: "2s", cancelSecond: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := uniqueID(t)
			input := transferInput(t, "alice", "bob", amount, ref)
			before := ledgerBalances(t, ledger)

			first := ref + "-first"
			req := client.StartWorkflowRequest{WorkflowType: "MoneyTransfer", WorkflowId: &first, TaskQueue: &queue, Input: rawJSON(input)}
			wantStopped := client.ExecutionStatusTERMINATED
			if tt.executionTimeout != "" {
				req.ExecutionTimeout, wantStopped = &tt.executionTimeout, client.ExecutionStatusTIMEDOUT
			}
			started, err := c.StartWorkflowWithResponse(t.Context(), nil, req)
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, started.StatusCode(), "body: %s", started.Body)
			for deadline := time.Now().Add(30 * time.Second); faulttest.ReadLedger(t, ledger).Transfers[ref].Withdrawal == ""; time.Sleep(20 * time.Millisecond) {
				require.True(t, time.Now().Before(deadline), "the withdrawal was not recorded within 30s")
			}
			if tt.executionTimeout == "" {
				r, err := c.TerminateWorkflowWithResponse(t.Context(), first, client.StopRequest{Reason: ptr("cut off mid-way")})
				require.NoError(t, err)
				require.Equal(t, http.StatusAccepted, r.StatusCode(), "body: %s", r.Body)
			}
			require.Equal(t, wantStopped, closedRun(t, c, first, started.JSON201.RunId).Status)
			stopped := faulttest.ReadLedger(t, ledger)
			require.Empty(t, stopped.Transfers[ref].Deposit, "the first execution was cut off before its deposit")
			require.Equal(t, before["alice"]-amount, stopped.Balances["alice"], "alice is debited")
			require.Equal(t, before["bob"], stopped.Balances["bob"], "bob is not credited")

			second := ref + "-second"
			secondRun := startOn(t, c, queue, "MoneyTransfer", second, input)
			if !tt.cancelSecond {
				e := closedRun(t, c, second, secondRun)
				require.Equal(t, client.ExecutionStatusCOMPLETED, e.Status, "failure: %+v", e.Failure)
				var res temporal.MoneyTransferResult
				require.NoError(t, json.Unmarshal(*e.Result, &res))
				after := faulttest.ReadLedger(t, ledger)
				assert.Equal(t, temporal.MoneyTransferResult{ReferenceID: ref, WithdrawalID: stopped.Transfers[ref].Withdrawal,
					DepositID: after.Transfers[ref].Deposit}, res, "the first execution's withdrawal, and the deposit")
				assert.True(t, after.Transfers[ref].Completed)
				assert.Equal(t, moved(before, "alice", "bob", amount), after.Balances, "moved once")
				assert.Equal(t, stopped.Transactions+1, after.Transactions, "the deposit, and nothing more")
				return
			}

			for deadline := time.Now().Add(30 * time.Second); ledgerBalances(t, ledger)["bob"] != before["bob"]+amount; time.Sleep(20 * time.Millisecond) {
				require.True(t, time.Now().Before(deadline), "the second execution's deposit was not recorded within 30s")
			}
			r, err := c.CancelWorkflowWithResponse(t.Context(), second, client.StopRequest{Reason: ptr("give it back")})
			require.NoError(t, err)
			require.Equal(t, http.StatusAccepted, r.StatusCode(), "body: %s", r.Body)
			e := closedRun(t, c, second, secondRun)
			assert.Equal(t, client.ExecutionStatusCANCELED, e.Status, "failure: %+v, result: %s", e.Failure, e.Result)
			after := faulttest.ReadLedger(t, ledger)
			assert.Equal(t, before, after.Balances, "alice has her money back, bob has nothing more")
			assert.True(t, after.Transfers[ref].Voided)
			assert.Equal(t, stopped.Transactions+3, after.Transactions, "the deposit, its reversal and the refund")

			third := ref + "-third"
			requireFailure(t, closedRun(t, c, third, startOn(t, c, queue, "MoneyTransfer", third, input)), "TransferCanceledError")
			assert.Equal(t, before, ledgerBalances(t, ledger), "the canceled reference moves nothing later")
		})
	}
}

// TestMoneyTransferReferenceMovesMoneyOnce sends one referenceId again: by a second execution
// under another workflow id, by a new run of the same workflow id, and by a reset of the first
// execution (a new run that replays it from its start). None moves money again; each answers the
// first's outcome, the same transaction ids or the same failure type. The same referenceId with
// another transfer is refused.
func TestMoneyTransferReferenceMovesMoneyOnce(t *testing.T) {
	queue, ledger := moneyWorker(t)
	c := api(t)
	run := func(t *testing.T, id, input string) client.Execution {
		t.Helper()
		return closedRun(t, c, id, startOn(t, c, queue, "MoneyTransfer", id, input))
	}

	t.Run("a second execution answers the first's result", func(t *testing.T) {
		ref := uniqueID(t)
		input := transferInput(t, "alice", "bob", 1_000, ref)
		before := ledgerBalances(t, ledger)
		first := run(t, ref, input)
		require.Equal(t, client.ExecutionStatusCOMPLETED, first.Status, "failure: %+v", first.Failure)
		for _, id := range []string{ref + "-again", ref} { // another workflow id; the same one, its first run closed
			again := run(t, id, input)
			require.Equal(t, client.ExecutionStatusCOMPLETED, again.Status, "%s: failure: %+v", id, again.Failure)
			assert.JSONEq(t, string(*first.Result), string(*again.Result), "%s: the first's transaction ids", id)
		}
		assert.Equal(t, moved(before, "alice", "bob", 1_000), ledgerBalances(t, ledger), "moved once")
	})

	t.Run("a second execution answers the first's failure", func(t *testing.T) {
		ref := uniqueID(t)
		input := transferInput(t, "charlie", "bob", 500, ref)
		before := ledgerBalances(t, ledger)
		require.Zero(t, before["charlie"])
		requireFailure(t, run(t, ref, input), "InsufficientFundsError")
		// charlie can pay now, but the reference was refused: retrying it answers the same.
		funding := uniqueID(t)
		require.Equal(t, client.ExecutionStatusCOMPLETED, run(t, funding, transferInput(t, "alice", "charlie", 500, funding)).Status)
		requireFailure(t, run(t, ref+"-again", input), "InsufficientFundsError")
		assert.Equal(t, moved(before, "alice", "charlie", 500), ledgerBalances(t, ledger), "only the funding moved")
	})

	t.Run("the same reference for another transfer is refused", func(t *testing.T) {
		ref := uniqueID(t)
		before := ledgerBalances(t, ledger)
		require.Equal(t, client.ExecutionStatusCOMPLETED, run(t, ref, transferInput(t, "alice", "bob", 300, ref)).Status)
		others := []struct {
			name     string
			from, to string
			amount   int64
		}{
			{"another amount", "alice", "bob", 301},
			{"another target", "alice", "charlie", 300},
			{"another source", "bob", "alice", 300},
		}
		for i, o := range others {
			e := run(t, fmt.Sprintf("%s-%d", ref, i), transferInput(t, o.from, o.to, o.amount, ref))
			requireFailure(t, e, "ReferenceConflictError")
			assert.True(t, *e.Failure.NonRetryable, "%s: a conflict is not retried", o.name)
		}
		assert.Equal(t, moved(before, "alice", "bob", 300), ledgerBalances(t, ledger), "only the first moved")
	})

	t.Run("a reset run answers the first's result", func(t *testing.T) {
		ref := uniqueID(t)
		before := ledgerBalances(t, ledger)
		runID := startOn(t, c, queue, "MoneyTransfer", ref, transferInput(t, "alice", "bob", 700, ref))
		first := closedRun(t, c, ref, runID)
		require.Equal(t, client.ExecutionStatusCOMPLETED, first.Status, "failure: %+v", first.Failure)

		// Back to the end of the first workflow task: the new run runs every activity again.
		reset, err := temporalC.ResetWorkflowExecution(t.Context(), &workflowservice.ResetWorkflowExecutionRequest{
			Namespace:                 "default",
			WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: ref, RunId: runID},
			Reason:                    "replay the transfer",
			WorkflowTaskFinishEventId: firstWorkflowTaskCompleted(t, ref, runID),
			RequestId:                 uuid.NewString(),
		})
		require.NoError(t, err)
		require.NotEqual(t, runID, reset.GetRunId())
		again := closedRun(t, c, ref, reset.GetRunId())
		require.Equal(t, client.ExecutionStatusCOMPLETED, again.Status, "failure: %+v", again.Failure)
		assert.JSONEq(t, string(*first.Result), string(*again.Result), "the first run's transaction ids")
		assert.Equal(t, moved(before, "alice", "bob", 700), ledgerBalances(t, ledger), "moved once")
	})
}

// firstWorkflowTaskCompleted is the id of the run's first WorkflowTaskCompleted event.
func firstWorkflowTaskCompleted(t *testing.T, id, runID string) int64 {
	t.Helper()
	it := temporalC.GetWorkflowHistory(t.Context(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			return e.GetEventId()
		}
	}
	t.Fatalf("%s: no completed workflow task in the history", id)
	return 0
}

// activitySteps lists the run's activities in the order they were scheduled, each with how it
// ended: "WithdrawForTransfer completed", "DepositForTransfer canceled".
func activitySteps(t *testing.T, id, runID string) []string {
	t.Helper()
	var steps []string
	scheduled := map[int64]int{} // scheduled event id -> index in steps
	ended := func(scheduledID int64, how string) {
		if i, ok := scheduled[scheduledID]; ok {
			steps[i] += " " + how
		}
	}
	it := temporalC.GetWorkflowHistory(t.Context(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		switch {
		case e.GetActivityTaskScheduledEventAttributes() != nil:
			scheduled[e.GetEventId()] = len(steps)
			steps = append(steps, e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName())
		case e.GetActivityTaskCompletedEventAttributes() != nil:
			ended(e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId(), "completed")
		case e.GetActivityTaskFailedEventAttributes() != nil:
			ended(e.GetActivityTaskFailedEventAttributes().GetScheduledEventId(), "failed")
		case e.GetActivityTaskCanceledEventAttributes() != nil:
			ended(e.GetActivityTaskCanceledEventAttributes().GetScheduledEventId(), "canceled")
		case e.GetActivityTaskTimedOutEventAttributes() != nil:
			ended(e.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId(), "timed out")
		}
	}
	return steps
}

//go:build record

package temporal

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
)

var recordAddress = flag.String("temporal-address", "localhost:7233", "Temporal frontend the recorder runs the workflows on")

// TestRecordHistories runs each workflow on a real Temporal server and a real worker and writes
// the event histories that TestReplay replays. It is not part of the normal test run:
//
//	(cd tools/temporal && go tool temporal server start-dev --headless) &
//	go test -tags record -run TestRecordHistories ./internal/temporal/ -args -temporal-address=localhost:7233
//
// Record again after a deliberate, versioned change to a workflow, never to make TestReplay pass.
// The pattern also runs TestRecordHistoriesApproval, TestRecordHistoriesMoneyTransfer and
// TestRecordHistoriesCart; -run
// TestRecordHistoriesApproval records only Approval's histories.
//
// MoneyTransfer's histories of earlier versions were recorded by the code of their time and are
// kept as they are, so that the paths of those versions stay replayed; nothing records them again:
// money-transfer.json, money-transfer-refunded.json and money-transfer-overdraft.json are from
// before transferByReference (moneyTransferPerRun), and money-transfer-by-reference*.json and
// money-transfer-canceled-in-*.json from stepsUnderSharedNames (moneyTransferSharedNames).
func TestRecordHistories(t *testing.T) {
	ctx, c, taskQueue, suffix := startRecorder(t, NewBank(SeedAccounts))
	runs := []struct {
		file     string
		workflow string
		input    any
	}{
		{"greeting.json", "Greeting", GreetingInput{Name: "Ada"}},
		{"greeting-invalid-input.json", "Greeting", GreetingInput{}},
		{"echo.json", "Echo", json.RawMessage(`{"id":9007199254740993,"tags":["a","b"]}`)},
		{"sleep.json", "Sleep", SleepInput{Seconds: 1}},
	}
	for _, r := range runs {
		id := fmt.Sprintf("record-%s-%s", r.file[:len(r.file)-len(".json")], suffix)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, r.workflow, r.input)
		require.NoError(t, err, r.file)
		_ = run.Get(ctx, nil) // failures are histories too
		writeHistory(t, ctx, c, id, run.GetRunID(), r.file)
	}

	// The second run of a cron workflow is the one that reads the last completion result.
	id := "record-cron-counter-" + suffix
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue, CronSchedule: "@every 2s"},
		"CronCounter", CronCounterInput{})
	require.NoError(t, err)
	defer func() { _ = c.TerminateWorkflow(context.WithoutCancel(ctx), id, "", "recorded") }()
	second := nextRunID(t, ctx, c, id, run.GetRunID())
	nextRunID(t, ctx, c, id, second)
	writeHistory(t, ctx, c, id, second, "cron-counter-second-run.json")
}

// TestRecordHistoriesApproval records Approval decided by a signal, approved by an update,
// expired, and refused for its input. The workflow has answered its status query before each
// decision, so the decision comes in a workflow task of its own, as it does in use.
func TestRecordHistoriesApproval(t *testing.T) {
	ctx, c, taskQueue, suffix := startRecorder(t, NewBank(SeedAccounts))
	start := func(file string, in ApprovalInput) client.WorkflowRun {
		t.Helper()
		id := fmt.Sprintf("record-%s-%s", file[:len(file)-len(".json")], suffix)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, "Approval", in)
		require.NoError(t, err, file)
		return run
	}
	finish := func(run client.WorkflowRun, file string, want ApprovalResult) {
		t.Helper()
		var got ApprovalResult
		require.NoError(t, run.Get(ctx, &got), file)
		require.Equal(t, want, got, file)
		require.Equal(t, string(want.State), queryApprovalStatus(t, ctx, c, run), "%s: status after completion", file)
		writeHistory(t, ctx, c, run.GetID(), run.GetRunID(), file)
	}

	run := start("approval-signal.json", ApprovalInput{RequestID: "req-1", Amount: 5_000, Approver: "ada", TimeoutSeconds: 600})
	awaitPending(t, ctx, c, run)
	require.NoError(t, c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "decision", ApprovalDecision{Approved: true, Comment: "looks good"}))
	finish(run, "approval-signal.json", ApprovalResult{State: ApprovalApproved, Comment: "looks good"})

	run = start("approval-update.json", ApprovalInput{RequestID: "req-2", Amount: 900_000, Approver: "grace", TimeoutSeconds: 600})
	awaitPending(t, ctx, c, run)
	handle, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateName: "approve",
		Args: []any{ApproveInput{Comment: "approved by phone"}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	var status ApprovalStatus
	require.NoError(t, handle.Get(ctx, &status))
	require.Equal(t, ApprovalStatus{State: ApprovalApproved}, status)
	finish(run, "approval-update.json", ApprovalResult{State: ApprovalApproved, Comment: "approved by phone"})

	run = start("approval-expired.json", ApprovalInput{RequestID: "req-3", TimeoutSeconds: 1})
	finish(run, "approval-expired.json", ApprovalResult{State: ApprovalExpired})

	run = start("approval-invalid-input.json", ApprovalInput{RequestID: "req-4", TimeoutSeconds: -1})
	require.Error(t, run.Get(ctx, nil))
	writeHistory(t, ctx, c, run.GetID(), run.GetRunID(), "approval-invalid-input.json")
}

// TestRecordHistoriesMoneyTransfer records MoneyTransfer as it runs now (stepsOfTheirOwn):
// completed, refunded after a refused deposit, refused; canceled while its withdrawal, then its
// deposit, had moved the money but not reported it; and canceled too late, while its completion
// had completed the transfer but not reported it. The cancels run on a worker of their own whose
// ledger holds each step (the test-only delay), so that the cancel reaches the activity.
func TestRecordHistoriesMoneyTransfer(t *testing.T) {
	ctx, c, taskQueue, suffix := startRecorder(t, NewBank(SeedAccounts))
	runs := []struct {
		file  string
		input MoneyTransferInput
	}{
		{"money-transfer-steps.json", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 2_500, ReferenceID: "ref-1"}},
		{"money-transfer-steps-refunded.json", MoneyTransferInput{FromAccount: "alice", ToAccount: "zed", Amount: 500, ReferenceID: "ref-2"}},
		{"money-transfer-steps-overdraft.json", MoneyTransferInput{FromAccount: "charlie", ToAccount: "alice", Amount: 1, ReferenceID: "ref-3"}},
	}
	for _, r := range runs {
		id := fmt.Sprintf("record-%s-%s", r.file[:len(r.file)-len(".json")], suffix)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, "MoneyTransfer", r.input)
		require.NoError(t, err, r.file)
		_ = run.Get(ctx, nil) // failures are histories too
		writeHistory(t, ctx, c, id, run.GetRunID(), r.file)
	}

	bank, err := OpenBank("", SeedAccounts, 8*time.Second)
	require.NoError(t, err)
	_, c, slowQueue, _ := startRecorder(t, bank)
	canceled := []struct {
		file string
		ref  string
		made func(ref string) bool // the step the cancel falls behind
		// tooLate: the transfer was completed before the cancel, and stands.
		tooLate bool
	}{
		{file: "money-transfer-steps-canceled-in-withdrawal.json", ref: "ref-cancel-0",
			made: func(string) bool { cents, _ := bank.Balance("alice"); return cents == 99_000 }},
		{file: "money-transfer-steps-canceled-in-deposit.json", ref: "ref-cancel-1",
			made: func(string) bool { cents, _ := bank.Balance("bob"); return cents == 51_000 }},
		{file: "money-transfer-steps-canceled-too-late.json", ref: "ref-cancel-2",
			made: func(ref string) bool { t, _ := bank.Transfer(ref); return t.Completed }, tooLate: true},
	}
	for _, r := range canceled {
		id := fmt.Sprintf("record-%s-%s", r.file[:len(r.file)-len(".json")], suffix)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: slowQueue}, "MoneyTransfer",
			MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: r.ref})
		require.NoError(t, err, r.file)
		for !r.made(r.ref) {
			select {
			case <-ctx.Done():
				t.Fatalf("%s: the step was not made: %v", r.file, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
		require.NoError(t, c.CancelWorkflow(ctx, id, run.GetRunID()))
		if r.tooLate {
			var got MoneyTransferResult
			require.NoError(t, run.Get(ctx, &got), r.file)
			require.NotEmpty(t, got.DepositID, r.file)
			require.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}), balances(t, bank), "%s: the transfer stands", r.file)
		} else {
			var canceledErr *temporal.CanceledError
			require.ErrorAs(t, run.Get(ctx, nil), &canceledErr, r.file)
			require.Equal(t, SeedAccounts, balances(t, bank), "%s: every cent back", r.file)
		}
		writeHistory(t, ctx, c, id, run.GetRunID(), r.file)
	}
}

// awaitPending waits until the Approval run answers its status query, which it does once its first
// workflow task has registered the handler.
func awaitPending(t *testing.T, ctx context.Context, c client.Client, run client.WorkflowRun) {
	t.Helper()
	for {
		v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), "status")
		if err == nil {
			var s ApprovalStatus
			require.NoError(t, v.Get(&s))
			require.Equal(t, ApprovalPending, s.State)
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never answered its status query: %v (last error: %v)", run.GetID(), ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func queryApprovalStatus(t *testing.T, ctx context.Context, c client.Client, run client.WorkflowRun) string {
	t.Helper()
	v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), "status")
	require.NoError(t, err)
	var s ApprovalStatus
	require.NoError(t, v.Get(&s))
	return string(s.State)
}

// TestRecordHistoriesCart records a Cart checked out after two items, one refused by the
// validator and a query; and one abandoned.
func TestRecordHistoriesCart(t *testing.T) {
	ctx, c, taskQueue, suffix := startRecorder(t, NewBank(SeedAccounts))
	id := "record-cart-checkout-" + suffix
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, "Cart", CartInput{CustomerID: "c-42"})
	require.NoError(t, err)
	add := func(updateID string, item CartItem) error {
		t.Helper()
		handle, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, RunID: run.GetRunID(), UpdateName: "addItem", UpdateID: updateID,
			Args: []any{item}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			return err
		}
		var contents CartContents
		return handle.Get(ctx, &contents)
	}
	require.NoError(t, add("line-1", CartItem{Sku: "A-1", Quantity: 2, PriceCents: 1250}))
	require.NoError(t, add("line-2", CartItem{Sku: "B-2", Quantity: 1, PriceCents: 99}))
	require.Error(t, add("line-3", CartItem{Sku: "C-3", Quantity: 0, PriceCents: 1}))
	v, err := c.QueryWorkflow(ctx, id, run.GetRunID(), "contents")
	require.NoError(t, err)
	var contents CartContents
	require.NoError(t, v.Get(&contents))
	require.Equal(t, int64(2599), contents.TotalCents)
	require.NoError(t, c.SignalWorkflow(ctx, id, run.GetRunID(), "checkout", CartCheckout{}))
	require.NoError(t, c.SignalWorkflow(ctx, id, run.GetRunID(), "checkout", CartCheckout{PaymentReference: "pay-1"}))
	var receipt CartReceipt
	require.NoError(t, run.Get(ctx, &receipt))
	require.Equal(t, "pay-1", receipt.PaymentReference)
	writeHistory(t, ctx, c, id, run.GetRunID(), "cart-checkout.json")

	id = "record-cart-abandoned-" + suffix
	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, "Cart", CartInput{TimeoutSeconds: 1})
	require.NoError(t, err)
	require.Error(t, run.Get(ctx, nil))
	writeHistory(t, ctx, c, id, run.GetRunID(), "cart-abandoned.json")
}

// startRecorder connects to the server and starts a worker with bank on a task queue of its own;
// the suffix keeps workflow ids apart from earlier recordings on the same server.
func startRecorder(t *testing.T, bank *Bank) (context.Context, client.Client, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	c, err := client.Dial(client.Options{HostPort: *recordAddress, Identity: "history-recorder"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	taskQueue := fmt.Sprintf("record-histories-%d", time.Now().UnixNano())
	w := worker.New(c, taskQueue, worker.Options{})
	Register(w, &Activities{Bank: bank})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return ctx, c, taskQueue, time.Now().UTC().Format("20060102T150405")
}

// nextRunID waits for a cron run to complete and returns the id of the run it started.
func nextRunID(t *testing.T, ctx context.Context, c client.Client, id, runID string) string {
	t.Helper()
	for {
		events := history(t, ctx, c, id, runID)
		last := events[len(events)-1]
		if done := last.GetWorkflowExecutionCompletedEventAttributes(); done != nil {
			require.NotEmpty(t, done.GetNewExecutionRunId())
			return done.GetNewExecutionRunId()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("cron run %s did not complete: %v", runID, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func history(t *testing.T, ctx context.Context, c client.Client, id, runID string) []*historypb.HistoryEvent {
	t.Helper()
	var events []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		event, err := it.Next()
		require.NoError(t, err)
		events = append(events, event)
	}
	require.NotEmpty(t, events)
	return events
}

func writeHistory(t *testing.T, ctx context.Context, c client.Client, id, runID, file string) {
	t.Helper()
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&historypb.History{Events: history(t, ctx, c, id, runID)})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(replayDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(replayDir, file), append(data, '\n'), 0o644))
}

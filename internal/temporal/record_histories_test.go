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
func TestRecordHistories(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := client.Dial(client.Options{HostPort: *recordAddress, Identity: "history-recorder"})
	require.NoError(t, err)
	defer c.Close()

	taskQueue := fmt.Sprintf("record-histories-%d", time.Now().UnixNano())
	w := worker.New(c, taskQueue, worker.Options{})
	Register(w, &Activities{Bank: NewBank(SeedAccounts)})
	require.NoError(t, w.Start())
	defer w.Stop()

	suffix := time.Now().UTC().Format("20060102T150405")
	runs := []struct {
		file     string
		workflow string
		input    any
	}{
		{"greeting.json", "Greeting", GreetingInput{Name: "Ada"}},
		{"greeting-invalid-input.json", "Greeting", GreetingInput{}},
		{"echo.json", "Echo", json.RawMessage(`{"id":9007199254740993,"tags":["a","b"]}`)},
		{"sleep.json", "Sleep", SleepInput{Seconds: 1}},
		{"money-transfer.json", "MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 2_500, ReferenceID: "ref-1"}},
		{"money-transfer-refunded.json", "MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "zed", Amount: 500, ReferenceID: "ref-2"}},
		{"money-transfer-overdraft.json", "MoneyTransfer", MoneyTransferInput{FromAccount: "charlie", ToAccount: "alice", Amount: 1, ReferenceID: "ref-3"}},
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

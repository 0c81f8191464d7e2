package temporal

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// replayDir holds event histories recorded from a real server by TestRecordHistories
// (record_histories_test.go, build tag record).
const replayDir = "testdata/replay"

// replayRegistry lets Register put the workflows on a replayer, which hosts no activities.
type replayRegistry struct {
	worker.Registry
	replayer worker.WorkflowReplayer
}

func (r replayRegistry) RegisterWorkflowWithOptions(w any, opts workflow.RegisterOptions) {
	r.replayer.RegisterWorkflowWithOptions(w, opts)
}

func (replayRegistry) RegisterActivity(any) {}

// Every recorded history replays against today's workflow code: a change that would break running
// executions fails here with a nondeterminism error.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(replayDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no histories in %s", replayDir)

	replayed := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			require.NoError(t, err)
			defer f.Close()
			hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, hist.GetEvents())
			workflowType := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
			require.NotEmpty(t, workflowType, "the first event starts a workflow")
			replayed[workflowType] = true

			replayer := worker.NewWorkflowReplayer()
			Register(replayRegistry{replayer: replayer}, nil)
			logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))
			assert.NoError(t, replayer.ReplayWorkflowHistory(logger, hist))
		})
	}

	for _, typ := range WorkflowTypes() {
		assert.True(t, replayed[typ.Name], "no recorded history of %s in %s", typ.Name, replayDir)
	}
}

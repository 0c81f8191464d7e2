package handlers

import (
	"context"
	"log/slog"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockingHistory is a long poll on a run that never closes: it ends only with its context.
type blockingHistory struct{ ctx context.Context }

func (h blockingHistory) HasNext() bool { return true }

func (h blockingHistory) Next() (*historypb.HistoryEvent, error) {
	<-h.ctx.Done()
	return nil, h.ctx.Err()
}

type blockingClient struct{ TemporalClient }

func (blockingClient) GetWorkflowHistory(ctx context.Context, _, _ string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return blockingHistory{ctx}
}

// Parked waits come and go on a run that stays open for days: those that left must not pile up
// in the poll, nor be called when it ends.
func TestNotifiedWaitersThatLeaveAreForgotten(t *testing.T) {
	w := newCloseWaiter(blockingClient{}, slog.New(slog.DiscardHandler), nil, nil)
	key := runKey{"wf", "run"}
	holder, holderID := w.joinNotify(key, func() {})
	for range 1000 {
		p, id := w.joinNotify(key, func() { t.Error("a waiter that left was notified") })
		require.Same(t, holder, p, "one poll for the run")
		w.leaveNotify(key, p, id)
	}
	w.mu.Lock()
	pending := len(holder.notify)
	w.mu.Unlock()
	assert.Equal(t, 1, pending)

	w.leaveNotify(key, holder, holderID)
	select {
	case <-holder.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the poll outlived its last waiter")
	}
	assert.Equal(t, int64(1), w.started.Load())
}

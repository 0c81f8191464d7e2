package executions

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// runKey names one run of a workflow.
type runKey struct{ workflowID, runID string }

// closeWaiter lets any number of requests wait for runs to close while Temporal sees one long
// poll per run: the first waiter starts the poll, later ones join it, and the last one to leave
// ends it, so a client that hangs up releases its share at once.
type closeWaiter struct {
	client Client
	logger *slog.Logger
	// draining is closed when the gateway shuts down: waits then end early, as if their time had
	// passed, so that they answer before the server stops.
	draining <-chan struct{}

	mu    sync.Mutex
	polls map[runKey]*longPoll
}

// longPoll is one run's poll for its close event, shared by its waiters.
type longPoll struct {
	done    chan struct{} // closed when the run has closed or the poll failed
	event   *historypb.HistoryEvent
	err     error
	waiters int
	cancel  context.CancelFunc

	// The closed run as Describe and the close event tell it (Service.describeClosed): described
	// once made, describing while one attempt is under way for every waiter.
	describeMu sync.Mutex
	described  *Execution
	describing *describeAttempt
}

// describeAttempt is one Describe of a closed run, shared by the waiters that need it meanwhile.
type describeAttempt struct {
	done chan struct{}
	exec Execution
	err  error
}

func newCloseWaiter(client Client, logger *slog.Logger, draining <-chan struct{}) *closeWaiter {
	return &closeWaiter{client: client, logger: logger, draining: draining, polls: map[runKey]*longPoll{}}
}

// wait joins the run's long poll until the run closes (closed), d passes or the gateway drains
// (neither), or ctx ends (its error).
func (w *closeWaiter) wait(ctx context.Context, key runKey, d time.Duration) (p *longPoll, closed bool, err error) {
	p = w.join(key)
	defer w.leave(key, p)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
		return p, p.err == nil, p.err
	case <-timer.C:
		return p, false, nil
	case <-w.draining:
		return p, false, nil
	case <-ctx.Done():
		return p, false, ctx.Err()
	}
}

// polling says whether a long poll on the run is under way.
func (w *closeWaiter) polling(key runKey) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.polls[key]
	return ok
}

func (w *closeWaiter) join(key runKey) *longPoll {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.polls[key]; ok {
		p.waiters++
		return p
	}
	// The poll outlives any one request: it belongs to all its waiters.
	ctx, cancel := context.WithCancel(context.Background())
	p := &longPoll{done: make(chan struct{}), waiters: 1, cancel: cancel}
	w.polls[key] = p
	go w.poll(ctx, key, p)
	return p
}

func (w *closeWaiter) leave(key runKey, p *longPoll) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p.waiters--
	if p.waiters == 0 {
		p.cancel()
		if w.polls[key] == p {
			delete(w.polls, key)
		}
	}
}

// poll rides Temporal's long poll for the run's close event, renewing it when one poll times out
// with the run still open, until the run closes, the poll fails, or every waiter has left.
func (w *closeWaiter) poll(ctx context.Context, key runKey, p *longPoll) {
	defer func() {
		w.mu.Lock()
		if w.polls[key] == p {
			delete(w.polls, key) // later waiters start afresh; the result stays with these
		}
		w.mu.Unlock()
		close(p.done)
	}()
	for ctx.Err() == nil {
		event, err := w.closeEvent(ctx, key)
		switch {
		case err == nil:
			p.event = event
			return
		case ctx.Err() != nil:
			p.err = ctx.Err()
			return
		case retryablePollError(err):
			w.logger.Debug("long poll renewed", "workflow_id", key.workflowID, "run_id", key.runID, "error", err)
			select {
			case <-time.After(200 * time.Millisecond):
			case <-ctx.Done():
			}
		default:
			p.err = &Error{"wait for", key.workflowID, key.runID, err}
			return
		}
	}
	p.err = ctx.Err()
}

func (w *closeWaiter) closeEvent(ctx context.Context, key runKey) (*historypb.HistoryEvent, error) {
	events := w.client.GetWorkflowHistory(followsNextRun(ctx), key.workflowID, key.runID, true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for events.HasNext() {
		event, err := events.Next()
		if err != nil {
			return nil, err
		}
		if _, ok := closeEventTypes[event.GetEventType()]; ok {
			return event, nil
		}
	}
	return nil, serviceerror.NewDeadlineExceeded("long poll ended without a close event")
}

// followsNextRun tells Temporal that the gateway reads a close event that names a next run as it
// is. Without it, server 1.29 hands a cron or retry run's close (completed, failed or timed out,
// naming the next run) to a close-event read as a continue-as-new event, for SDKs older than
// 2021 that would otherwise answer the wrong run's result; the gateway would then have to guess
// the status (see standIn).
func followsNextRun(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "supported-features", "follows-next-run-id")
}

// retryablePollError says whether a long poll ended for a reason that a new poll may not share:
// its own timeout, or a passing outage.
func retryablePollError(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch serviceerror.ToStatus(err).Code() {
	case codes.DeadlineExceeded, codes.Unavailable, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}

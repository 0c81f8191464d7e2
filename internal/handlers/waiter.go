package handlers

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"

	"github.com/temporalhttp/gateway/internal/gen"
)

// runKey names one run of a workflow.
type runKey struct{ workflowID, runID string }

// closeWaiter lets any number of requests wait for runs to close while Temporal sees one long
// poll per run: the first waiter starts the poll, later ones join it, and the last one to leave
// ends it, so a client that hangs up releases its share at once.
type closeWaiter struct {
	client TemporalClient
	logger *slog.Logger
	// finish turns the close event into the finished Execution, once for all waiters of a run.
	finish func(ctx context.Context, key runKey, event *historypb.HistoryEvent) (gen.Execution, error)

	// draining is closed when the gateway shuts down: waits then end early, as if their time
	// had passed, so that they answer before the server stops.
	draining <-chan struct{}

	mu    sync.Mutex
	polls map[runKey]*longPoll

	// started counts the long polls begun, for tests and metrics.
	started atomic.Int64
}

type longPoll struct {
	done    chan struct{} // closed when the run has closed or the poll failed
	exec    gen.Execution
	err     error
	waiters int
	cancel  context.CancelFunc
	// notify are called, each on a goroutine of its own, once done is closed, unless their
	// waiter left before (guarded by the waiter's mu); ended says that has happened.
	notify     map[int]func()
	lastNotify int
	ended      bool
}

func newCloseWaiter(client TemporalClient, logger *slog.Logger, draining <-chan struct{},
	finish func(context.Context, runKey, *historypb.HistoryEvent) (gen.Execution, error)) *closeWaiter {
	return &closeWaiter{client: client, logger: logger, draining: draining, finish: finish, polls: map[runKey]*longPoll{}}
}

// wait returns the finished Execution of the run once it closes, or ok=false when d passes first.
// It returns ctx's error when the caller goes away.
func (w *closeWaiter) wait(ctx context.Context, key runKey, d time.Duration) (exec gen.Execution, ok bool, err error) {
	p := w.join(key)
	defer w.leave(key, p)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.exec, p.err == nil, p.err
	case <-timer.C:
		return gen.Execution{}, false, nil
	case <-w.draining:
		return gen.Execution{}, false, nil
	case <-ctx.Done():
		return gen.Execution{}, false, ctx.Err()
	}
}

// joinNotify joins the run's long poll without a goroutine to wait on it: f is called on a
// goroutine of its own once the poll is done (at once if it is), and then reads p.exec and p.err.
// The caller must call leaveNotify with the id once it no longer needs the poll, whether f has
// been called or not.
func (w *closeWaiter) joinNotify(key runKey, f func()) (p *longPoll, id int) {
	p = w.join(key)
	w.mu.Lock()
	defer w.mu.Unlock()
	if p.ended {
		go f()
		return p, 0
	}
	if p.notify == nil {
		p.notify = map[int]func(){}
	}
	p.lastNotify++
	p.notify[p.lastNotify] = f
	return p, p.lastNotify
}

// leaveNotify leaves a poll joined with joinNotify; its f is not called after this.
func (w *closeWaiter) leaveNotify(key runKey, p *longPoll, id int) {
	w.mu.Lock()
	delete(p.notify, id)
	w.mu.Unlock()
	w.leave(key, p)
}

// subscribe joins the run's long poll for as long as the caller needs it (an event stream): done
// is closed when the run has closed or the poll failed, result then tells which, and release
// must be called once the caller is gone.
func (w *closeWaiter) subscribe(key runKey) (done <-chan struct{}, result func() (gen.Execution, error), release func()) {
	p := w.join(key)
	return p.done, func() (gen.Execution, error) { return p.exec, p.err }, func() { w.leave(key, p) }
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
	w.started.Add(1)
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
		close(p.done)
		p.ended = true
		notify := p.notify
		p.notify = nil
		w.mu.Unlock()
		for _, f := range notify {
			go f()
		}
	}()
	for ctx.Err() == nil {
		event, err := w.closeEvent(ctx, key)
		switch {
		case err == nil:
			p.exec, p.err = w.finish(ctx, key, event)
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
			p.err = &executionError{"wait for", key.workflowID, key.runID, err}
			return
		}
	}
	p.err = ctx.Err()
}

func (w *closeWaiter) closeEvent(ctx context.Context, key runKey) (*historypb.HistoryEvent, error) {
	events := w.client.GetWorkflowHistory(ctx, key.workflowID, key.runID, true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for events.HasNext() {
		event, err := events.Next()
		if err != nil {
			return nil, err
		}
		if closeEventTypes[event.GetEventType()] {
			return event, nil
		}
	}
	return nil, serviceerror.NewDeadlineExceeded("long poll ended without a close event")
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

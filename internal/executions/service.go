package executions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	enumspb "go.temporal.io/api/enums/v1"
)

// Options configure a Service.
type Options struct {
	// TaskQueue is where workflows start when a spec names none: this deployment's workers' queue.
	TaskQueue string
	// Namespace is the client's namespace, which raw service calls name.
	Namespace string
	// CallTimeout bounds each Temporal call made for a request; a start, with all its calls,
	// ends within it too.
	CallTimeout time.Duration
	// ClosedCacheSize bounds how many closed executions are kept to answer reads without Temporal.
	ClosedCacheSize int
	// Draining, once closed, ends every wait early with the execution as it is, and every watch,
	// so that a shutting-down gateway answers them instead of cutting them off. Nil means never.
	Draining <-chan struct{}
	Logger   *slog.Logger
}

// Service is the gateway's core: it starts executions, reads them, waits for them and acts on
// them, over a narrow port to Temporal, knowing nothing of HTTP.
type Service struct {
	*Starter
	client Client
	opts   Options
	// closed holds closed executions by run: they never change, so a read of one by run id needs
	// no Temporal call.
	closed *lru.Cache[runKey, Execution]
	waiter *closeWaiter
}

// New returns the core over c.
func New(c Client, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{Starter: NewStarter(c, opts.TaskQueue, opts.CallTimeout), client: c, opts: opts}
	s.closed, _ = lru.New[runKey, Execution](max(1, opts.ClosedCacheSize))
	s.waiter = newCloseWaiter(c, opts.Logger, opts.Draining)
	return s
}

// Start carries out a start (see Starter.Start) within the call timeout: a keyed start's claim
// is taken over only once no start could still be acting on it.
func (s *Service) Start(ctx context.Context, spec StartSpec) (Started, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.Starter.Start(ctx, spec)
}

// Draining is closed once the gateway drains.
func (s *Service) Draining() <-chan struct{} { return s.opts.Draining }

// LongPollsStarted counts the long polls begun, for tests and metrics.
func (s *Service) LongPollsStarted() int64 { return s.waiter.started.Load() }

// call bounds one Temporal call of a request.
func (s *Service) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.CallTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.opts.CallTimeout)
}

// Error is a Temporal call's failure, naming the execution the call was about.
type Error struct {
	Op, WorkflowID, RunID string
	Err                   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s workflow %q run %q: %v", e.Op, e.WorkflowID, e.RunID, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Execution is the execution a start began, as the start itself knows it: no Temporal call more.
func (st Started) Execution() Execution {
	return Execution{WorkflowID: st.WorkflowID, RunID: st.RunID, WorkflowType: st.WorkflowType, TaskQueue: st.TaskQueue,
		Status: StatusRunning}
}

// Describe answers an execution as it is now, the latest run when runID is empty: from the
// closed-run cache, or by Describe and, for a closed run, its close event. It never waits.
func (s *Service) Describe(ctx context.Context, workflowID, runID string) (Execution, error) {
	if exec, ok := s.closed.Get(runKey{workflowID, runID}); ok {
		return exec, nil
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	exec, err := s.describe(ctx, workflowID, runID)
	if err != nil || exec.Running() {
		return exec, err
	}
	events := s.client.GetWorkflowHistory(ctx, workflowID, exec.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for events.HasNext() {
		event, err := events.Next()
		if err != nil {
			return Execution{}, &Error{"read close event of", workflowID, exec.RunID, err}
		}
		if _, ok := closeEventTypes[event.GetEventType()]; ok {
			exec = closedBy(exec, event)
			s.closed.Add(runKey{workflowID, exec.RunID}, exec)
			return exec, nil
		}
	}
	return Execution{}, &Error{"read close event of", workflowID, exec.RunID, errors.New("closed run has no close event")}
}

func (s *Service) describe(ctx context.Context, workflowID, runID string) (Execution, error) {
	resp, err := s.client.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return Execution{}, &Error{"describe", workflowID, runID, err}
	}
	exec, err := fromInfo(resp.GetWorkflowExecutionInfo())
	if err != nil {
		return Execution{}, fmt.Errorf("describe: %w", err)
	}
	return exec, nil
}

// AwaitClose holds a request on a running execution until it closes or d passes, and answers the
// execution as it then is. The answer to a close is built from the close event, as the SDK's Get
// reads a result: no Describe before the wait and none after it. An execution known only by its
// ids (DescribeWhenClosed) is described once for all its waiters.
func (s *Service) AwaitClose(ctx context.Context, exec Execution, d time.Duration) (Execution, error) {
	if d <= 0 || !exec.Running() {
		return exec, nil
	}
	key := runKey{exec.WorkflowID, exec.RunID}
	p, closed, err := s.waiter.wait(ctx, key, d)
	switch {
	case err != nil:
		return Execution{}, err
	case closed && exec.WorkflowType == "":
		return p.described(ctx, s, key)
	case closed:
		final := closedBy(exec, p.event)
		if final.described() {
			s.closed.Add(key, final)
		}
		return final, nil
	}
	return s.Describe(ctx, exec.WorkflowID, exec.RunID)
}

// DescribeWhenClosed describes an execution once it has closed or d has passed. A read that names the
// run, of a run others already wait on, joins their long poll without a Describe: it exists, and
// the poll answers its close (at once if it has closed meanwhile), so a Describe would tell
// nothing. Thousands of readers of one run then cost Temporal nothing more.
func (s *Service) DescribeWhenClosed(ctx context.Context, workflowID, runID string, d time.Duration) (Execution, error) {
	if key := (runKey{workflowID, runID}); runID != "" && d > 0 && s.waiter.polling(key) {
		if exec, ok := s.closed.Get(key); ok {
			return exec, nil
		}
		return s.AwaitClose(ctx, Execution{WorkflowID: workflowID, RunID: runID, Status: StatusRunning}, d)
	}
	exec, err := s.Describe(ctx, workflowID, runID)
	if err != nil {
		return Execution{}, err
	}
	return s.AwaitClose(ctx, exec, d)
}

// Watch follows a running execution until it closes, for as long as the caller needs it (an event
// stream): done is closed when the run has closed or can no longer be watched; final then tells
// which; stop must be called once the caller is gone. One long poll serves every watcher and
// waiter of a run.
func (s *Service) Watch(exec Execution) (done <-chan struct{}, final func() (Execution, error), stop func()) {
	key := runKey{exec.WorkflowID, exec.RunID}
	p := s.waiter.join(key)
	return p.done, func() (Execution, error) {
		if p.err != nil {
			return Execution{}, p.err
		}
		return closedBy(exec, p.event), nil
	}, func() { s.waiter.leave(key, p) }
}

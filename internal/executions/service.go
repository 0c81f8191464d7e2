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
	starter *Starter
	client  Client
	opts    Options
	// closed holds closed executions by run, as Describe and the close event tell them: they
	// never change, so a read of one by run id needs no Temporal call.
	closed *lru.Cache[runKey, Execution]
	waiter *closeWaiter
}

// New returns the core over c.
func New(c Client, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{starter: NewStarter(c, opts.TaskQueue, opts.CallTimeout), client: c, opts: opts}
	s.closed, _ = lru.New[runKey, Execution](max(1, opts.ClosedCacheSize))
	s.waiter = newCloseWaiter(c, opts.Logger, opts.Draining)
	return s
}

// Start carries out a start (see Starter.Start) within the call timeout: a keyed start's claim
// is taken over only once no start could still be acting on it.
func (s *Service) Start(ctx context.Context, spec StartSpec) (Started, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.starter.Start(ctx, spec)
}

// StartAndAwait carries out a start and waits up to d for the run it answers with to close. A run
// this start began is answered as the start knows it and then from its close event: one Temporal
// call and the close, as the SDK's ExecuteWorkflow and Get make. An existing run that answers it
// is described first.
//
// A request that did something (began a run, or signalled a running one) is answered whatever
// befalls the read or the wait after it: the error is logged and the run is answered as the start
// knows it, running, so that a client is never told to retry what happened. A start answered by
// an existing run without a signal, or by an earlier request's outcome, did nothing, and reports
// a failed read or wait as it is.
func (s *Service) StartAndAwait(ctx context.Context, spec StartSpec, d time.Duration) (Started, Execution, error) {
	started, err := s.Start(ctx, spec)
	if err != nil {
		return Started{}, Execution{}, err
	}
	acted := started.Created || (spec.Signal != nil && !started.Replayed)
	exec := started.Execution()
	if !started.Created {
		exec, err = s.Describe(ctx, started.WorkflowID, started.RunID)
		if err == nil && spec.OnlyOwnType && exec.WorkflowType != spec.WorkflowType {
			return started, exec, nil // not this start's answer: no wait for it
		}
	}
	if err == nil {
		var closed Execution
		if closed, err = s.AwaitClose(ctx, exec, d); err == nil {
			exec = closed
		}
	}
	if err != nil && acted {
		if ctx.Err() == nil { // not merely a client that left
			s.opts.Logger.WarnContext(ctx, "read after start failed; answering the run as last known",
				"workflow_id", started.WorkflowID, "run_id", started.RunID, "error", err)
		}
		if exec.RunID == "" { // not even described: the run as the start knows it
			exec = started.Execution()
		}
		return started, exec, nil
	}
	return started, exec, err
}

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
	events := s.client.GetWorkflowHistory(followsNextRun(ctx), workflowID, exec.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
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
// execution as it then is.
//
// A run known from the start that began it is answered from its close event, as the SDK's Get
// reads a result: no Describe before the wait and none after it. Such an answer lacks what only
// a Describe tells (start time, search attributes), so it is not kept for later reads. Any other
// run is described once it has closed, once for all its waiters: what it was described as before
// the wait may have changed (search attributes), and a reader that joined others' wait knows only
// its ids.
func (s *Service) AwaitClose(ctx context.Context, exec Execution, d time.Duration) (Execution, error) {
	if d <= 0 || !exec.Running() {
		return exec, nil
	}
	key := runKey{exec.WorkflowID, exec.RunID}
	p, closed, err := s.waiter.wait(ctx, key, d)
	switch {
	case err != nil:
		return Execution{}, err
	case closed:
		return s.closedRun(ctx, exec, key, p)
	}
	return s.Describe(ctx, exec.WorkflowID, exec.RunID)
}

// describeClosed is the closed run as Describe and its close event tell it, kept in the
// closed-run cache. One Describe serves every waiter of the poll that asks while it is under way,
// its failure included; a waiter that asks after a failure tries again. A waiter whose request
// ends stops waiting for it at once.
func (s *Service) describeClosed(ctx context.Context, key runKey, p *longPoll) (Execution, error) {
	p.describeMu.Lock()
	if p.described != nil {
		defer p.describeMu.Unlock()
		return *p.described, nil
	}
	if exec, ok := s.closed.Get(key); ok { // a reader described it meanwhile
		p.describeMu.Unlock()
		return exec, nil
	}
	attempt := p.describing
	if attempt == nil {
		attempt = &describeAttempt{done: make(chan struct{})}
		p.describing = attempt
		// The attempt belongs to every waiter: no one request's end cancels it.
		go s.describeFor(context.WithoutCancel(ctx), key, p, attempt)
	}
	p.describeMu.Unlock()
	select {
	case <-attempt.done:
		return attempt.exec, attempt.err
	case <-ctx.Done():
		return Execution{}, ctx.Err()
	}
}

func (s *Service) describeFor(ctx context.Context, key runKey, p *longPoll, attempt *describeAttempt) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	exec, err := s.describe(ctx, key.workflowID, key.runID)
	p.describeMu.Lock()
	defer p.describeMu.Unlock()
	if err == nil {
		exec = closedBy(exec, p.event)
		p.described = &exec
		s.closed.Add(key, exec)
	}
	attempt.exec, attempt.err = exec, err
	p.describing = nil
	close(attempt.done)
}

// Wait reads an execution once it has closed or d has passed; with no d it is Describe. A read
// that names the run, of a run others already wait on, joins their long poll without a Describe
// first: the run exists, and the poll answers its close (at once if it has closed meanwhile), so
// a Describe would tell nothing. Thousands of readers of one run then cost Temporal one long poll
// and one Describe once it closes.
func (s *Service) Wait(ctx context.Context, workflowID, runID string, d time.Duration) (Execution, error) {
	if key := (runKey{workflowID, runID}); runID != "" && d > 0 && s.waiter.polling(key) {
		if exec, ok := s.closed.Get(key); ok {
			return exec, nil
		}
		return s.AwaitClose(ctx, Execution{source: fromIDs, WorkflowID: workflowID, RunID: runID, Status: StatusRunning}, d)
	}
	exec, err := s.Describe(ctx, workflowID, runID)
	if err != nil {
		return Execution{}, err
	}
	return s.AwaitClose(ctx, exec, d)
}

// Watch follows a running execution until it closes, for as long as the caller needs it (an event
// stream): done is closed when the run has closed or can no longer be watched; final then tells
// the run as it closed; stop must be called once the caller is gone. One long poll serves every
// watcher and waiter of a run. Should the Describe after the close fail, the run is told from
// what the watcher knew of it and the close event.
func (s *Service) Watch(exec Execution) (done <-chan struct{}, final func(context.Context) (Execution, error), stop func()) {
	key := runKey{exec.WorkflowID, exec.RunID}
	p := s.waiter.join(key)
	return p.done, func(ctx context.Context) (Execution, error) {
		if p.err != nil {
			return Execution{}, p.err
		}
		return s.closedRun(ctx, exec, key, p)
	}, func() { s.waiter.leave(key, p) }
}

// closedRun is a run that its long poll saw close, as its waiters and watchers are answered: a
// run known from the start that began it from its close event alone; any other described once
// for all (describeClosed). Should that Describe fail, a run described before the wait is told
// from what was known of it and the close event, rather than not at all.
func (s *Service) closedRun(ctx context.Context, exec Execution, key runKey, p *longPoll) (Execution, error) {
	if exec.source == fromStart {
		return closedBy(exec, p.event), nil
	}
	final, err := s.describeClosed(ctx, key, p)
	if err != nil && exec.source == fromDescribe && ctx.Err() == nil {
		s.opts.Logger.WarnContext(ctx, "describe after close failed; telling the run from its close event",
			"workflow_id", key.workflowID, "run_id", key.runID, "error", err)
		return closedBy(exec, p.event), nil
	}
	return final, err
}

package executions

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func jsonPayload(s string) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(s)}
}

func TestClosedByReadsTheStandInCloseOfACronOrRetryRun(t *testing.T) {
	canEvent := func(a *historypb.WorkflowExecutionContinuedAsNewEventAttributes) *historypb.HistoryEvent {
		a.NewExecutionRunId = "next"
		return &historypb.HistoryEvent{EventId: 12, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
			EventTime:  timestamppb.Now(),
			Attributes: &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: a}}
	}
	running := Execution{source: fromStart, WorkflowID: "w", RunID: "r", Status: StatusRunning}
	appFailure := &failurepb.Failure{Message: "boom", FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
		ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "Boom"}}}
	timeout := &failurepb.Failure{Message: "timed out", FailureInfo: &failurepb.Failure_TimeoutFailureInfo{
		TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: enumspb.TIMEOUT_TYPE_START_TO_CLOSE}}}

	for name, tc := range map[string]struct {
		exec    Execution
		attrs   *historypb.WorkflowExecutionContinuedAsNewEventAttributes
		status  Status
		result  string
		failure string
	}{
		"cron run completed (no initiator)": {running, &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
			LastCompletionResult: &commonpb.Payloads{Payloads: []*commonpb.Payload{jsonPayload(`{"count":3}`)}}}, StatusCompleted, `{"count":3}`, ""},
		"cron run completed (cron initiator)": {running, &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
			Initiator: enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE}, StatusCompleted, `null`, ""},
		"retried run failed": {running, &historypb.WorkflowExecutionContinuedAsNewEventAttributes{Failure: appFailure}, StatusFailed, "", "Boom"},
		"retried run timed out": {running, &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
			Initiator: enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY, Failure: timeout}, StatusTimedOut, "", "TimeoutError"},
		// As server 1.29 writes it for the Go SDK: no initiator.
		"the workflow continued as new": {running, &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
			WorkflowType: &commonpb.WorkflowType{Name: "Countdown"}, TaskQueue: &taskqueuepb.TaskQueue{Name: "queue"},
			WorkflowTaskCompletedEventId: 4}, StatusContinuedAsNew, "", ""},
		"the workflow continued as new, initiator set": {running, &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
			WorkflowType: &commonpb.WorkflowType{Name: "Countdown"}, WorkflowTaskCompletedEventId: 4,
			Initiator: enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW}, StatusContinuedAsNew, "", ""},
		"a Describe of the closed run tells the status": {Execution{source: fromDescribe, Status: StatusFailed},
			&historypb.WorkflowExecutionContinuedAsNewEventAttributes{Failure: appFailure}, StatusFailed, "", "Boom"},
	} {
		t.Run(name, func(t *testing.T) {
			got := closedBy(tc.exec, canEvent(tc.attrs))
			assert.Equal(t, tc.status, got.Status)
			assert.Equal(t, "next", got.NextRunID)
			assert.Equal(t, int64(12), got.HistoryLength)
			assert.NotNil(t, got.CloseTime)
			if tc.result != "" {
				assert.JSONEq(t, tc.result, string(got.Result))
			} else {
				assert.Nil(t, got.Result)
			}
			if tc.failure != "" {
				require.NotNil(t, got.Failure)
				assert.Equal(t, tc.failure, got.Failure.Type)
			} else {
				assert.Nil(t, got.Failure)
			}
		})
	}
}

// With follows-next-run-id, a cron run's close is its completed event naming the next run.
func TestClosedByReadsACloseThatNamesTheNextRun(t *testing.T) {
	event := &historypb.HistoryEvent{EventId: 5, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, EventTime: timestamppb.Now(),
		Attributes: &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{
			Result: &commonpb.Payloads{Payloads: []*commonpb.Payload{jsonPayload(`{"count":1}`)}}, NewExecutionRunId: "next"}}}
	got := closedBy(Execution{source: fromStart, Status: StatusRunning}, event)
	assert.Equal(t, StatusCompleted, got.Status)
	assert.JSONEq(t, `{"count":1}`, string(got.Result))
	assert.Equal(t, "next", got.NextRunID)
}

// waitFake is one run that a test closes: Describe tells it with its search attributes as they
// are; a long poll on it blocks until it closes.
type waitFake struct {
	Client       // nil: calls the waits do not make panic
	mu           sync.Mutex
	closeEvent   *historypb.HistoryEvent
	attribute    string // the run's one search attribute's value
	describes    int
	describeErr  error
	pollErr      error         // a long poll's failure
	describeGate chan struct{} // when set, a Describe waits for it to close
	signalled    bool          // Start signals a running run rather than starting one
	closed       chan struct{}
}

func newWaitFake() *waitFake { return &waitFake{attribute: `"draft"`, closed: make(chan struct{})} }

func (f *waitFake) complete(result string) {
	f.mu.Lock()
	f.closeEvent = &historypb.HistoryEvent{EventId: 7, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, EventTime: timestamppb.Now(),
		Attributes: &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{
			Result: &commonpb.Payloads{Payloads: []*commonpb.Payload{jsonPayload(result)}}}}}
	f.mu.Unlock()
	close(f.closed)
}

func (f *waitFake) DescribeWorkflowExecution(_ context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.mu.Lock()
	gate := f.describeGate
	f.describes++
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	status := enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	var closeTime *timestamppb.Timestamp
	if f.closeEvent != nil {
		status, closeTime = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, f.closeEvent.GetEventTime()
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: "r"}, Type: &commonpb.WorkflowType{Name: "Order"},
		TaskQueue: "queue", Status: status, StartTime: timestamppb.Now(), CloseTime: closeTime, HistoryLength: 3,
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"OrderState": jsonPayload(f.attribute)}},
	}}, nil
}

func (f *waitFake) GetWorkflowHistory(ctx context.Context, _, _ string, isLongPoll bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	if isLongPoll && f.pollErr != nil {
		return &eventList{err: f.pollErr}
	}
	if isLongPoll {
		select {
		case <-f.closed:
		case <-ctx.Done():
			return &eventList{err: ctx.Err()}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closeEvent == nil {
		return &eventList{}
	}
	return &eventList{events: []*historypb.HistoryEvent{f.closeEvent}}
}

func (f *waitFake) Start(context.Context, StartCall) (StartAnswer, error) {
	return StartAnswer{RunID: "r", Started: !f.signalled, Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}, nil
}

func (f *waitFake) describeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.describes
}

type eventList struct {
	events []*historypb.HistoryEvent
	err    error
}

func (l *eventList) HasNext() bool { return l.err != nil || len(l.events) > 0 }

func (l *eventList) Next() (*historypb.HistoryEvent, error) {
	if l.err != nil {
		return nil, l.err
	}
	e := l.events[0]
	l.events = l.events[1:]
	return e, nil
}

// waitUntilPolling blocks until a long poll on the run is under way.
func waitUntilPolling(t *testing.T, s *Service) {
	t.Helper()
	require.Eventually(t, func() bool { return s.waiter.polling(runKey{"w", "r"}) }, 5*time.Second, time.Millisecond)
}

// A run known from its start is answered from its close event alone, and that answer, which
// lacks what only a Describe tells, is not kept for later reads.
func TestAwaitCloseOfAStartedRunIsAnsweredFromItsCloseEvent(t *testing.T) {
	ctx := context.Background()
	f := newWaitFake()
	s := New(f, Options{ClosedCacheSize: 10})
	started := Started{WorkflowID: "w", RunID: "r", WorkflowType: "Order", TaskQueue: "queue", Created: true,
		Memo: map[string]json.RawMessage{"note": json.RawMessage(`"hi"`)}}

	answer := make(chan Execution, 1)
	go func() {
		exec, err := s.AwaitClose(ctx, started.Execution(), time.Minute)
		assert.NoError(t, err)
		answer <- exec
	}()
	waitUntilPolling(t, s)
	f.complete(`{"total":5}`)
	exec := <-answer
	assert.Equal(t, StatusCompleted, exec.Status)
	assert.JSONEq(t, `{"total":5}`, string(exec.Result))
	assert.JSONEq(t, `"hi"`, string(exec.Memo["note"]))
	assert.Nil(t, exec.StartTime)
	assert.Zero(t, f.describeCount(), "no Describe before the wait or after it")

	read, err := s.Describe(ctx, "w", "r")
	require.NoError(t, err)
	assert.Equal(t, 1, f.describeCount(), "the start's answer is not what a later read gets")
	assert.NotNil(t, read.StartTime)
	assert.JSONEq(t, `"draft"`, string(read.SearchAttributes["OrderState"]))
}

// Readers that wait get the run as it closed: described after the close, once for all of them,
// with the search attributes the run ended with; later reads come from the cache.
func TestWaitingReadersGetTheRunDescribedAfterItClosed(t *testing.T) {
	ctx := context.Background()
	f := newWaitFake()
	s := New(f, Options{ClosedCacheSize: 10})

	const readers = 10
	answers := make(chan Execution, readers+1)
	read := func(runID string) {
		exec, err := s.Wait(ctx, "w", runID, time.Minute)
		assert.NoError(t, err)
		answers <- exec
	}
	go read("")
	waitUntilPolling(t, s)
	for range readers {
		go read("r") // joins the poll without a Describe
	}
	require.Eventually(t, func() bool {
		s.waiter.mu.Lock()
		defer s.waiter.mu.Unlock()
		return s.waiter.polls[runKey{"w", "r"}].waiters == readers+1
	}, 5*time.Second, time.Millisecond)
	f.mu.Lock()
	f.attribute = `"shipped"` // upserted while the run ran
	f.mu.Unlock()
	f.complete(`{"total":5}`)
	for range readers + 1 {
		exec := <-answers
		assert.Equal(t, StatusCompleted, exec.Status)
		assert.JSONEq(t, `{"total":5}`, string(exec.Result))
		assert.JSONEq(t, `"shipped"`, string(exec.SearchAttributes["OrderState"]))
		assert.Equal(t, "Order", exec.WorkflowType)
		assert.Equal(t, int64(7), exec.HistoryLength)
	}
	assert.Equal(t, 2, f.describeCount(), "one Describe before the wait, one after the close for all")

	_, err := s.Wait(ctx, "w", "r", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 2, f.describeCount(), "the closed run is read from the cache")
}

// A Describe after the close that fails is not kept: the next waiter of the poll tries again.
func TestAFailedDescribeOfTheClosedRunIsNotKept(t *testing.T) {
	ctx := context.Background()
	f := newWaitFake()
	s := New(f, Options{ClosedCacheSize: 10})
	key := runKey{"w", "r"}
	p := s.waiter.join(key)
	defer s.waiter.leave(key, p)
	f.complete(`1`)
	<-p.done

	f.mu.Lock()
	f.describeErr = serviceerror.NewUnavailable("passing outage")
	f.mu.Unlock()
	_, err := s.describeClosed(ctx, key, p)
	var unavailable *serviceerror.Unavailable
	require.True(t, errors.As(err, &unavailable), "got %v", err)

	f.mu.Lock()
	f.describeErr = nil
	f.mu.Unlock()
	exec, err := s.describeClosed(ctx, key, p)
	require.NoError(t, err)
	assert.JSONEq(t, `1`, string(exec.Result))
	assert.Equal(t, 2, f.describeCount())
	_, err = s.describeClosed(ctx, key, p)
	require.NoError(t, err)
	assert.Equal(t, 2, f.describeCount(), "a success is kept")
}

// A start that began a run is answered even when the wait after it fails: the client must not
// retry a start that happened.
func TestStartAndAwaitAnswersTheStartWhenTheWaitFails(t *testing.T) {
	f := newWaitFake()
	f.pollErr = serviceerror.NewPermissionDenied("no history for you", "")
	s := New(f, Options{TaskQueue: "queue", ClosedCacheSize: 10})
	started, exec, err := s.StartAndAwait(context.Background(), StartSpec{WorkflowType: "Order", WorkflowID: "w"}, time.Minute)
	require.NoError(t, err)
	assert.True(t, started.Created)
	assert.Equal(t, StatusRunning, exec.Status)
	assert.Equal(t, "r", exec.RunID)
	assert.Equal(t, "queue", exec.TaskQueue)
}

// A signal-with-start that signalled a running run did something too: it is answered even when
// the read after it fails, and a start that did nothing reports the failure.
func TestStartAndAwaitAnswersASignalWhenTheReadFails(t *testing.T) {
	f := newWaitFake()
	f.signalled = true
	f.describeErr = serviceerror.NewUnavailable("passing outage")
	s := New(f, Options{TaskQueue: "queue", ClosedCacheSize: 10})
	spec := StartSpec{WorkflowType: "Approval", WorkflowID: "w", Signal: &Signal{Name: "decision"}}
	started, exec, err := s.StartAndAwait(context.Background(), spec, 0)
	require.NoError(t, err)
	assert.False(t, started.Created)
	assert.Equal(t, StatusRunning, exec.Status)
	assert.Equal(t, "r", exec.RunID)

	_, _, err = s.StartAndAwait(context.Background(), StartSpec{WorkflowType: "Approval", WorkflowID: "w", Conflict: ConflictUseExisting}, 0)
	var unavailable *serviceerror.Unavailable
	assert.True(t, errors.As(err, &unavailable), "nothing was done: the failure is reported, got %v", err)
}

// A signal-with-start that signalled a running run, whose wait then fails, answers the run as it
// was described (its own type), not as the request named it.
func TestStartAndAwaitKeepsTheSignalledRunAsDescribed(t *testing.T) {
	f := newWaitFake()
	f.signalled = true
	f.pollErr = serviceerror.NewPermissionDenied("no history for you", "")
	s := New(f, Options{TaskQueue: "queue", ClosedCacheSize: 10})
	spec := StartSpec{WorkflowType: "Approval", WorkflowID: "w", Signal: &Signal{Name: "decision"}}
	_, exec, err := s.StartAndAwait(context.Background(), spec, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "Order", exec.WorkflowType, "the run's type, as described")
	assert.Equal(t, StatusRunning, exec.Status)
}

// A reader whose run was described before its wait is told the closed run from the close event
// when the Describe after the close fails, as a watcher is; the answer is not kept.
func TestAReaderIsToldTheCloseWhenTheDescribeAfterItFails(t *testing.T) {
	f := newWaitFake()
	s := New(f, Options{ClosedCacheSize: 10})
	done := make(chan struct{})
	var exec Execution
	var err error
	go func() {
		defer close(done)
		exec, err = s.Wait(context.Background(), "w", "r", time.Minute)
	}()
	require.Eventually(t, func() bool { return f.describeCount() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the reader reach its wait
	f.mu.Lock()
	f.describeErr = serviceerror.NewUnavailable("passing outage")
	f.mu.Unlock()
	f.complete(`2`)
	<-done
	require.NoError(t, err)
	assert.Equal(t, StatusCompleted, exec.Status)
	assert.JSONEq(t, `2`, string(exec.Result))
	_, cached := s.closed.Get(runKey{"w", "r"})
	assert.False(t, cached, "an answer without its Describe is not kept")
}

// Waiters that need the closed run while one Describe of it is under way share that Describe,
// its failure too, and a waiter whose request ends does not wait for it.
func TestWaitersShareOneDescribeOfTheClosedRun(t *testing.T) {
	f := newWaitFake()
	gate := make(chan struct{})
	f.describeGate = gate
	f.describeErr = serviceerror.NewUnavailable("slow, then failing")
	s := New(f, Options{ClosedCacheSize: 10})
	key := runKey{"w", "r"}
	p := s.waiter.join(key)
	defer s.waiter.leave(key, p)
	f.complete(`1`)
	<-p.done

	const waiters = 5
	errs := make(chan error, waiters)
	for range waiters {
		go func() {
			_, err := s.describeClosed(context.Background(), key, p)
			errs <- err
		}()
	}
	gone, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() {
		_, err := s.describeClosed(gone, key, p)
		left <- err
	}()
	require.Eventually(t, func() bool { return f.describeCount() == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-left, context.Canceled, "a waiter whose request ended stops waiting")
	time.Sleep(50 * time.Millisecond) // let every waiter join the attempt
	close(gate)
	for range waiters {
		var unavailable *serviceerror.Unavailable
		assert.True(t, errors.As(<-errs, &unavailable))
	}
	assert.Equal(t, 1, f.describeCount(), "one Describe for all of them, its failure shared")
}

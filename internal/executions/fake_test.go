package executions

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeTemporal keeps runs in memory and answers starts as Temporal server 1.29 does, request ids
// included: a start whose request id the current run was started with is answered with that run;
// a signal-with-start delivers a signal once per request id while the run runs, but reuses the id
// after a closed run and terminates a running one for TERMINATE_EXISTING whatever its request id.
type fakeTemporal struct {
	// Client is nil: a call the starter does not make panics.
	Client
	mu   sync.Mutex
	runs map[string][]*fakeRun // by workflow id, oldest first
	next int
	// beforeStart, when set, runs (once) before a start is carried out: a racing request.
	beforeStart func()
	// dropFinish makes the termination of idempotency records fail, as when a gateway dies
	// between acting and recording.
	dropFinish bool
	// readErr, when set, is the answer of every history read and of every Describe of a
	// workflow (not of a record): a passing outage.
	readErr error
	starts  []StartCall
	// rejectUpdates makes the workflow's validator reject every update, as the validator of a
	// real workflow runs: after the start, which stands.
	rejectUpdates bool
	// validations counts the updates that reached a validator.
	validations int
	// updateStartErr, when set, answers every update-with-start.
	updateStartErr error
}

type fakeRun struct {
	runID       string
	status      enumspb.WorkflowExecutionStatus
	memo        map[string]*commonpb.Payload
	requestID   string
	signalIDs   map[string]bool
	events      []*historypb.HistoryEvent
	signals     int
	terminated  bool
	workflowTyp string
	startTime   time.Time
	// updates are the updates the run applied, by id, each with the count of updates it had
	// applied by then.
	updates map[string]int
}

func newFake() *fakeTemporal { return &fakeTemporal{runs: map[string][]*fakeRun{}} }

func (f *fakeTemporal) current(id string) *fakeRun {
	if runs := f.runs[id]; len(runs) > 0 {
		return runs[len(runs)-1]
	}
	return nil
}

func (f *fakeTemporal) create(call StartCall) *fakeRun {
	f.next++
	memo := map[string]*commonpb.Payload{}
	for k, v := range call.Options.Memo {
		data, _ := json.Marshal(v)
		memo[k] = &commonpb.Payload{Data: data}
	}
	r := &fakeRun{runID: fmt.Sprintf("run-%d", f.next), status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		memo: memo, requestID: call.RequestID, signalIDs: map[string]bool{}, workflowTyp: call.WorkflowType,
		startTime: time.Now()}
	f.runs[call.Options.ID] = append(f.runs[call.Options.ID], r)
	if call.Signal != nil {
		f.signal(r, call)
	}
	return r
}

func (f *fakeTemporal) signal(r *fakeRun, call StartCall) {
	if call.RequestID != "" && r.signalIDs[call.RequestID] {
		return
	}
	r.signalIDs[call.RequestID] = true
	r.signals++
	r.events = append(r.events, &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{
			WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
				SignalName: call.Signal.Name, Header: &commonpb.Header{Fields: call.Header}}}})
}

func (f *fakeTemporal) terminate(r *fakeRun, reason string, details *commonpb.Payloads) {
	r.status, r.terminated = enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, true
	r.events = append(r.events, &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{
			WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{Reason: reason, Details: details}}})
}

func (f *fakeTemporal) Start(_ context.Context, call StartCall) (StartAnswer, error) {
	if race := f.beforeStart; race != nil {
		f.beforeStart = nil
		race()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, call)
	id, opts := call.Options.ID, call.Options
	cur := f.current(id)
	taken := func() (StartAnswer, error) {
		return StartAnswer{}, serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", cur.runID)
	}
	running := cur != nil && cur.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	if call.Update != nil {
		return f.updateWithStart(call, cur, running)
	}
	if call.Signal == nil && cur != nil && call.RequestID != "" && cur.requestID == call.RequestID {
		return StartAnswer{RunID: cur.runID, Started: true, Status: cur.status}, nil
	}
	switch {
	case running && call.Signal != nil && opts.WorkflowIDConflictPolicy != enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING:
		f.signal(cur, call)
		return StartAnswer{RunID: cur.runID}, nil
	case running && opts.WorkflowIDConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL:
		return taken()
	case running && opts.WorkflowIDConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
		return StartAnswer{RunID: cur.runID, Status: cur.status}, nil
	case running: // TERMINATE_EXISTING
		f.terminate(cur, "terminated by a start", nil)
	case cur != nil && opts.WorkflowIDReusePolicy == enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE:
		return taken()
	case cur != nil && opts.WorkflowIDReusePolicy == enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY &&
		cur.status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return taken()
	}
	r := f.create(call)
	return StartAnswer{RunID: r.runID, Started: true, Status: r.status}, nil
}

func (f *fakeTemporal) find(id, runID string) *fakeRun {
	if runID == "" {
		return f.current(id)
	}
	for _, r := range f.runs[id] {
		if r.runID == runID {
			return r
		}
	}
	return nil
}

func (f *fakeTemporal) DescribeWorkflowExecution(_ context.Context, id, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil && !strings.HasPrefix(id, "idem-") {
		return nil, f.readErr
	}
	r := f.find(id, runID)
	if r == nil {
		return nil, serviceerror.NewNotFound("no such run")
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: f.info(id, r)}, nil
}

func (f *fakeTemporal) info(id string, r *fakeRun) *workflowpb.WorkflowExecutionInfo {
	return &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: r.runID},
		Type:      &commonpb.WorkflowType{Name: r.workflowTyp},
		Status:    r.status,
		StartTime: timestamppb.New(r.startTime),
		Memo:      &commonpb.Memo{Fields: r.memo},
	}
}

func (f *fakeTemporal) GetWorkflowHistory(_ context.Context, id, runID string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := &fakeHistory{err: f.readErr}
	if r := f.find(id, runID); r != nil {
		it.events = append(it.events, r.events...)
	}
	return it
}

func (f *fakeTemporal) TerminateWorkflow(_ context.Context, id, runID, reason string, details ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropFinish && reason == recordReason {
		return serviceerror.NewUnavailable("the gateway died")
	}
	r := f.find(id, runID)
	if r == nil || r.status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return serviceerror.NewNotFound("workflow execution already completed")
	}
	payloads := &commonpb.Payloads{}
	for _, d := range details {
		data, _ := json.Marshal(d)
		payloads.Payloads = append(payloads.Payloads, &commonpb.Payload{Data: data})
	}
	f.terminate(r, reason, payloads)
	return nil
}

// age moves the start of the current run of id back by d.
func (f *fakeTemporal) age(id string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.current(id)
	r.startTime = r.startTime.Add(-d)
}

// workflowStarts are the starts of workflows, leaving out the claims of idempotency records.
func (f *fakeTemporal) workflowStarts() []StartCall {
	var out []StartCall
	for _, c := range f.starts {
		if c.WorkflowType != recordType {
			out = append(out, c)
		}
	}
	return out
}

// complete closes the current run of id as COMPLETED.
func (f *fakeTemporal) complete(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.current(id).status = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
}

type fakeHistory struct {
	events []*historypb.HistoryEvent
	err    error
}

func (h *fakeHistory) HasNext() bool { return h.err != nil || len(h.events) > 0 }

func (h *fakeHistory) Next() (*historypb.HistoryEvent, error) {
	if h.err != nil {
		return nil, h.err
	}
	e := h.events[0]
	h.events = h.events[1:]
	return e, nil
}

// updateWithStart answers an update-with-start as Temporal server 1.29 does: a current run that
// completed the update answers it, running or not; a running one that the start's request id,
// the update's id or USE_EXISTING names gets the update; otherwise a run is started for it.
func (f *fakeTemporal) updateWithStart(call StartCall, cur *fakeRun, running bool) (StartAnswer, error) {
	if f.updateStartErr != nil {
		return StartAnswer{}, f.updateStartErr
	}
	if cur != nil {
		if n, ok := cur.updates[call.Update.ID]; ok {
			return StartAnswer{RunID: cur.runID, Status: cur.status, Update: updateAnswer(n)}, nil
		}
		if running && (cur.requestID == call.RequestID ||
			call.Options.WorkflowIDConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) {
			return StartAnswer{RunID: cur.runID, Status: cur.status, Update: f.update(cur, call.Update)}, nil
		}
		if running {
			return StartAnswer{}, serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", cur.runID)
		}
	}
	r := f.create(call)
	return StartAnswer{RunID: r.runID, Started: true, Status: r.status, Update: f.update(r, call.Update)}, nil
}

func (f *fakeTemporal) update(r *fakeRun, call *UpdateCall) *UpdateAnswer {
	f.validations++
	if f.rejectUpdates {
		return &UpdateAnswer{Err: temporal.NewApplicationError("the cart is checked out", "CartCheckedOut")}
	}
	if r.updates == nil {
		r.updates = map[string]int{}
	}
	r.updates[call.ID] = len(r.updates) + 1
	return updateAnswer(r.updates[call.ID])
}

func updateAnswer(n int) *UpdateAnswer {
	p, _ := converter.GetDefaultDataConverter().ToPayload(map[string]int{"applied": n})
	return &UpdateAnswer{Result: converter.NewRawValue(p)}
}

func (f *fakeTemporal) GetWorkflowUpdateHandle(o client.GetWorkflowUpdateHandleOptions) client.WorkflowUpdateHandle {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := &fakeUpdateHandle{err: serviceerror.NewNotFound("update not found")}
	if r := f.find(o.WorkflowID, o.RunID); r != nil {
		if n, ok := r.updates[o.UpdateID]; ok {
			h.answer, h.err = updateAnswer(n), nil
		}
	}
	return h
}

type fakeUpdateHandle struct {
	client.WorkflowUpdateHandle
	answer *UpdateAnswer
	err    error
}

func (h *fakeUpdateHandle) Get(_ context.Context, v any) error {
	if h.err != nil {
		return h.err
	}
	*v.(*converter.RawValue) = h.answer.Result
	return nil
}

package handlers_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/handlers"
)

// secret marks every error text the fake makes up: none of it may reach a response body.
const secret = "secret internal detail"

var fakeStartTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// fakeRunID is the run id of the nth run the fake starts: a UUID, as the contract requires of
// the run ids a client sends back.
func fakeRunID(n int) string { return fmt.Sprintf("01a2110d-1b69-77ad-9897-%012d", n) }

// fakeExecution is one run the fake knows: what Describe says of it and, once closed, its close event.
type fakeExecution struct {
	workflowID, runID, workflowType, taskQueue string
	status                                     enumspb.WorkflowExecutionStatus
	historyLength                              int64
	closeEvent                                 *historypb.HistoryEvent
	// events is the run's whole history, which the raw history call pages through.
	events []*historypb.HistoryEvent
	// memo is what the start asked Temporal to store with the run.
	memo map[string]*commonpb.Payload
}

// startCall records one start or signal-with-start.
type startCall struct {
	options     client.StartWorkflowOptions
	workflow    string
	args        []any
	signal      *executions.SignalCall
	update      *executions.UpdateCall
	requestID   string
	hasDeadline bool
}

type runCall struct {
	workflowID, runID string
}

type historyCall struct {
	workflowID, runID string
	isLongPoll        bool
	filter            enumspb.HistoryEventFilterType
}

// fakeTemporal is a small in-memory stand-in for the Temporal client. Start starts a RUNNING
// execution the fake then describes (unless startErr is set); Describe finds the latest
// run of an id, or the named run; the configured errors replace the answers.
type fakeTemporal struct {
	mu sync.Mutex
	// fakeSchedules answers the schedule calls.
	fakeSchedules

	// Configured answers.
	executions  []*fakeExecution
	startErr    error
	describeErr error
	historyErr  error
	healthErr   error
	panicWith   any // every method panics with it when set

	// Answers of the lifecycle calls: signal, query, update, cancel, terminate.
	lifecycleErr error             // returned by every lifecycle call when set
	queryResult  *commonpb.Payload // what a query answers
	updateResult *commonpb.Payload // what an update completes with
	updateErr    error             // what the update's outcome is, when it fails

	// Answers of the list and the raw history call.
	listErr           error  // returned by ListWorkflow when set
	listNextPageToken []byte // the NextPageToken of every list answer
	pageErr           error  // returned by the raw history call when set

	// Recorded calls.
	starts       []startCall
	describes    []runCall
	histories    []historyCall
	healthChecks int
	lifecycle    []lifecycleCall
	lists        []listCall
	pages        []pageCall
}

// listCall records one ListWorkflow.
type listCall struct {
	query       string
	pageSize    int32
	token       []byte
	hasDeadline bool
}

// pageCall records one raw history call.
type pageCall struct {
	namespace, workflowID, runID string
	pageSize                     int32
	token                        []byte
	filter                       enumspb.HistoryEventFilterType
	waitNewEvent, hasDeadline    bool
}

// lifecycleCall records one signal, query, update, cancel or terminate.
type lifecycleCall struct {
	op, workflowID, runID, name, reason, updateID string
	args                                          []any
}

func (f *fakeTemporal) recordLifecycle(c lifecycleCall) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	f.lifecycle = append(f.lifecycle, c)
	return f.lifecycleErr
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, workflowID, runID, signalName string, arg any) error {
	return f.recordLifecycle(lifecycleCall{op: "signal", workflowID: workflowID, runID: runID, name: signalName, args: []any{arg}})
}

func (f *fakeTemporal) QueryWorkflow(_ context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error) {
	if err := f.recordLifecycle(lifecycleCall{op: "query", workflowID: workflowID, runID: runID, name: queryType, args: args}); err != nil {
		return nil, err
	}
	return fakeEncoded{f.queryResult}, nil
}

func (f *fakeTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if err := f.recordLifecycle(lifecycleCall{op: "update", workflowID: o.WorkflowID, runID: o.RunID, name: o.UpdateName, updateID: o.UpdateID, args: o.Args}); err != nil {
		return nil, err
	}
	return fakeUpdate{id: o.UpdateID, result: f.updateResult, err: f.updateErr}, nil
}

func (f *fakeTemporal) CancelWorkflowWithOptions(_ context.Context, o client.CancelWorkflowOptions) error {
	return f.recordLifecycle(lifecycleCall{op: "cancel", workflowID: o.WorkflowID, runID: o.RunID, reason: o.Reason})
}

// TerminateWorkflow ends a running run the fake knows, with a close event that keeps the reason
// and details (the executions core keeps an Idempotency-Key's outcome there).
func (f *fakeTemporal) TerminateWorkflow(_ context.Context, workflowID, runID, reason string, details ...any) error {
	if err := f.recordLifecycle(lifecycleCall{op: "terminate", workflowID: workflowID, runID: runID, reason: reason}); err != nil {
		return err
	}
	payloads, err := converter.GetDefaultDataConverter().ToPayloads(details...)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.find(workflowID, runID); e != nil && e.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		e.status = enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
		e.closeEvent = &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{
				WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{
					Reason: reason, Details: payloads}}}
	}
	return nil
}

// fakeEncoded hands a payload to a *converter.RawValue, as the SDK's default converter does.
type fakeEncoded struct{ payload *commonpb.Payload }

func (e fakeEncoded) HasValue() bool { return e.payload != nil }

func (e fakeEncoded) Get(v any) error {
	raw, ok := v.(*converter.RawValue)
	if !ok {
		return fmt.Errorf("%s: fake decodes into *converter.RawValue only, got %T", secret, v)
	}
	*raw = converter.NewRawValue(e.payload)
	return nil
}

type fakeUpdate struct {
	id     string
	result *commonpb.Payload
	err    error
}

func (u fakeUpdate) WorkflowID() string { return "" }
func (u fakeUpdate) RunID() string      { return "" }
func (u fakeUpdate) UpdateID() string   { return u.id }
func (u fakeUpdate) Get(_ context.Context, v any) error {
	if u.err != nil {
		return u.err
	}
	return fakeEncoded{u.result}.Get(v)
}

var _ handlers.TemporalClient = (*fakeTemporal)(nil)

// Start starts a RUNNING run, or answers with the running run of the id as its conflict policy
// says; a signal-with-start goes to the running run unless it terminates it.
func (f *fakeTemporal) Start(ctx context.Context, call executions.StartCall) (executions.StartAnswer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	_, hasDeadline := ctx.Deadline()
	options := call.Options
	f.starts = append(f.starts, startCall{options: options, workflow: call.WorkflowType, args: call.Args,
		signal: call.Signal, update: call.Update, requestID: call.RequestID, hasDeadline: hasDeadline})
	if f.startErr != nil {
		return executions.StartAnswer{}, f.startErr
	}
	if e := f.find(options.ID, ""); e != nil && e.status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING &&
		options.WorkflowIDReusePolicy == enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE {
		return executions.StartAnswer{}, serviceerror.NewWorkflowExecutionAlreadyStarted(secret, "", e.runID)
	}
	if e := f.find(options.ID, ""); e != nil && e.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		switch options.WorkflowIDConflictPolicy {
		case enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
			return executions.StartAnswer{RunID: e.runID, Status: e.status, Update: f.updateAnswer(call)}, nil
		case enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING:
			e.status = enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
		default:
			return executions.StartAnswer{}, serviceerror.NewWorkflowExecutionAlreadyStarted(secret, "", e.runID)
		}
	}
	run := &fakeExecution{
		workflowID:    options.ID,
		runID:         fakeRunID(len(f.starts)),
		workflowType:  call.WorkflowType,
		taskQueue:     options.TaskQueue,
		status:        enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		historyLength: 2,
	}
	if len(options.Memo) > 0 {
		run.memo = map[string]*commonpb.Payload{}
		for k, v := range options.Memo {
			p, err := converter.GetDefaultDataConverter().ToPayload(v)
			if err != nil {
				return executions.StartAnswer{}, err
			}
			run.memo[k] = p
		}
	}
	f.executions = append(f.executions, run)
	return executions.StartAnswer{RunID: run.runID, Started: true, Status: run.status, Update: f.updateAnswer(call)}, nil
}

// updateAnswer is the outcome of an update-with-start's update: updateResult, or updateErr.
func (f *fakeTemporal) updateAnswer(call executions.StartCall) *executions.UpdateAnswer {
	if call.Update == nil {
		return nil
	}
	return &executions.UpdateAnswer{Result: converter.NewRawValue(f.updateResult), Err: f.updateErr}
}

func (f *fakeTemporal) GetWorkflowUpdateHandle(o client.GetWorkflowUpdateHandleOptions) client.WorkflowUpdateHandle {
	return fakeUpdate{id: o.UpdateID, result: f.updateResult, err: f.updateErr}
}

func (f *fakeTemporal) DescribeWorkflowExecution(_ context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	f.describes = append(f.describes, runCall{workflowID, runID})
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	e := f.find(workflowID, runID)
	if e == nil {
		return nil, serviceerror.NewNotFound(secret + ": workflow not found for ID: " + workflowID)
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{
		ExecutionConfig:       &workflowpb.WorkflowExecutionConfig{TaskQueue: &taskqueuepb.TaskQueue{Name: e.taskQueue}},
		WorkflowExecutionInfo: e.info(),
	}, nil
}

func (f *fakeTemporal) GetWorkflowHistory(_ context.Context, workflowID, runID string, isLongPoll bool, filter enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	f.histories = append(f.histories, historyCall{workflowID, runID, isLongPoll, filter})
	if f.historyErr != nil {
		return &fakeHistory{err: f.historyErr}
	}
	e := f.find(workflowID, runID)
	if e == nil {
		return &fakeHistory{err: serviceerror.NewNotFound(secret + ": no history for " + workflowID)}
	}
	var events []*historypb.HistoryEvent
	if e.closeEvent != nil {
		events = append(events, e.closeEvent)
	}
	return &fakeHistory{events: events}
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	f.healthChecks++
	if f.healthErr != nil {
		return nil, f.healthErr
	}
	return &client.CheckHealthResponse{}, nil
}

// find returns the named run of workflowID, or its latest run when runID is empty.
func (f *fakeTemporal) find(workflowID, runID string) *fakeExecution {
	for i := len(f.executions) - 1; i >= 0; i-- {
		e := f.executions[i]
		if e.workflowID == workflowID && (runID == "" || e.runID == runID) {
			return e
		}
	}
	return nil
}

// startCalls are the starts of workflows, leaving out the claims of Idempotency-Keys' records.
func (f *fakeTemporal) startCalls() []startCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []startCall
	for _, c := range f.starts {
		if c.workflow != "TemporalHttpGateway.IdempotencyKey" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeTemporal) describeCalls() []runCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]runCall(nil), f.describes...)
}

func (f *fakeTemporal) historyCalls() []historyCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]historyCall(nil), f.histories...)
}

func (f *fakeTemporal) healthCheckCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.healthChecks
}

// fakeHistory iterates over fixed events, or fails on its first Next when err is set.
type fakeHistory struct {
	events []*historypb.HistoryEvent
	err    error
}

var _ client.HistoryEventIterator = (*fakeHistory)(nil)

func (h *fakeHistory) HasNext() bool { return h.err != nil || len(h.events) > 0 }

func (h *fakeHistory) Next() (*historypb.HistoryEvent, error) {
	if h.err != nil {
		return nil, h.err
	}
	if len(h.events) == 0 {
		return nil, errors.New(secret + ": Next called past the end")
	}
	e := h.events[0]
	h.events = h.events[1:]
	return e, nil
}

// ListWorkflow answers every execution the fake knows, in the order it knows them, as one page
// whose next token is listNextPageToken.
func (f *fakeTemporal) ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	_, hasDeadline := ctx.Deadline()
	f.lists = append(f.lists, listCall{
		query: req.GetQuery(), pageSize: req.GetPageSize(), token: req.GetNextPageToken(), hasDeadline: hasDeadline,
	})
	if f.listErr != nil {
		return nil, f.listErr
	}
	resp := &workflowservice.ListWorkflowExecutionsResponse{NextPageToken: f.listNextPageToken}
	for _, e := range f.executions {
		resp.Executions = append(resp.Executions, e.info())
	}
	return resp, nil
}

// info is what Temporal tells of the run in Describe's and in a list's answer.
func (e *fakeExecution) info() *workflowpb.WorkflowExecutionInfo {
	info := &workflowpb.WorkflowExecutionInfo{
		Execution:     &commonpb.WorkflowExecution{WorkflowId: e.workflowID, RunId: e.runID},
		Type:          &commonpb.WorkflowType{Name: e.workflowType},
		TaskQueue:     e.taskQueue,
		Status:        e.status,
		StartTime:     timestamppb.New(fakeStartTime),
		ExecutionTime: timestamppb.New(fakeStartTime),
		HistoryLength: e.historyLength,
	}
	if e.memo != nil {
		info.Memo = &commonpb.Memo{Fields: e.memo}
	}
	if e.status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		info.CloseTime = timestamppb.New(fakeStartTime.Add(time.Minute))
	}
	return info
}

func (f *fakeTemporal) listCalls() []listCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]listCall(nil), f.lists...)
}

func (f *fakeTemporal) pageCalls() []pageCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]pageCall(nil), f.pages...)
}

// GetWorkflowExecutionHistory pages through the run's events, as the raw service call does.
func (f *fakeTemporal) GetWorkflowExecutionHistory(ctx context.Context, req *workflowservice.GetWorkflowExecutionHistoryRequest) (*workflowservice.GetWorkflowExecutionHistoryResponse, error) {
	return fakeService{f: f}.GetWorkflowExecutionHistory(ctx, req)
}

// fakeService is the raw workflow service of the fake. Only the history call is written; any
// other call panics on the nil interface it embeds.
type fakeService struct {
	workflowservice.WorkflowServiceClient
	f *fakeTemporal
}

// fakeToken is the page token of the fake's history pages: the offset of the page's first event.
const fakeToken = "offset:"

// GetWorkflowExecutionHistory pages through the run's events.
func (s fakeService) GetWorkflowExecutionHistory(ctx context.Context, req *workflowservice.GetWorkflowExecutionHistoryRequest, _ ...grpc.CallOption) (*workflowservice.GetWorkflowExecutionHistoryResponse, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	_, hasDeadline := ctx.Deadline()
	f.pages = append(f.pages, pageCall{
		namespace: req.GetNamespace(), workflowID: req.GetExecution().GetWorkflowId(), runID: req.GetExecution().GetRunId(),
		pageSize: req.GetMaximumPageSize(), token: req.GetNextPageToken(), filter: req.GetHistoryEventFilterType(),
		waitNewEvent: req.GetWaitNewEvent(), hasDeadline: hasDeadline,
	})
	if f.pageErr != nil {
		return nil, f.pageErr
	}
	e := f.find(req.GetExecution().GetWorkflowId(), req.GetExecution().GetRunId())
	if e == nil {
		return nil, serviceerror.NewNotFound(secret + ": workflow execution not found")
	}
	offset := 0
	if token := req.GetNextPageToken(); token != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(string(token), fakeToken))
		if !strings.HasPrefix(string(token), fakeToken) || err != nil || n < 0 || n > len(e.events) {
			return nil, serviceerror.NewInvalidArgument(secret + ": invalid NextPageToken")
		}
		offset = n
	}
	size := int(req.GetMaximumPageSize())
	if size <= 0 {
		size = 1000
	}
	end := min(offset+size, len(e.events))
	resp := &workflowservice.GetWorkflowExecutionHistoryResponse{History: &historypb.History{Events: e.events[offset:end]}}
	if end < len(e.events) {
		resp.NextPageToken = []byte(fakeToken + strconv.Itoa(end))
	}
	return resp, nil
}

// fakeSchedules is a small in-memory stand-in for Temporal's schedules. Like Temporal, it takes an
// update whose conflict token is stale without an error and drops it.
type fakeSchedules struct {
	smu         sync.Mutex
	schedules   map[string]*fakeSchedule
	scheduleErr error // returned by every schedule call when set
	// beforeUpdate, when set, runs inside UpdateSchedule before the update is applied: another
	// writer's change landing in between.
	beforeUpdate func(*fakeSchedule)
	patches      []*workflowservice.PatchScheduleRequest
}

type fakeSchedule struct {
	schedule *schedulepb.Schedule
	token    uint64
}

func (f *fakeSchedules) scheduleNamed(id string) (*fakeSchedule, error) {
	if f.scheduleErr != nil {
		return nil, f.scheduleErr
	}
	s, ok := f.schedules[id]
	if !ok {
		return nil, serviceerror.NewNotFound(secret)
	}
	return s, nil
}

func conflictToken(t uint64) []byte { return binary.BigEndian.AppendUint64(nil, t) }

func (f *fakeSchedules) CreateSchedule(_ context.Context, req *workflowservice.CreateScheduleRequest) (*workflowservice.CreateScheduleResponse, error) {
	f.smu.Lock()
	defer f.smu.Unlock()
	if f.scheduleErr != nil {
		return nil, f.scheduleErr
	}
	if _, ok := f.schedules[req.ScheduleId]; ok {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted(secret, "", "")
	}
	if f.schedules == nil {
		f.schedules = map[string]*fakeSchedule{}
	}
	f.schedules[req.ScheduleId] = &fakeSchedule{schedule: proto.Clone(req.Schedule).(*schedulepb.Schedule), token: 1}
	return &workflowservice.CreateScheduleResponse{ConflictToken: conflictToken(1)}, nil
}

func (f *fakeSchedules) DescribeSchedule(_ context.Context, req *workflowservice.DescribeScheduleRequest) (*workflowservice.DescribeScheduleResponse, error) {
	f.smu.Lock()
	defer f.smu.Unlock()
	s, err := f.scheduleNamed(req.ScheduleId)
	if err != nil {
		return nil, err
	}
	return &workflowservice.DescribeScheduleResponse{Schedule: proto.Clone(s.schedule).(*schedulepb.Schedule),
		Info: &schedulepb.ScheduleInfo{ActionCount: 2}, ConflictToken: conflictToken(s.token)}, nil
}

func (f *fakeSchedules) UpdateSchedule(_ context.Context, req *workflowservice.UpdateScheduleRequest) (*workflowservice.UpdateScheduleResponse, error) {
	f.smu.Lock()
	defer f.smu.Unlock()
	s, err := f.scheduleNamed(req.ScheduleId)
	if err != nil {
		return nil, err
	}
	if f.beforeUpdate != nil {
		f.beforeUpdate(s)
	}
	if len(req.ConflictToken) == 8 && binary.BigEndian.Uint64(req.ConflictToken) != s.token {
		return &workflowservice.UpdateScheduleResponse{}, nil // dropped, as Temporal does
	}
	s.schedule, s.token = proto.Clone(req.Schedule).(*schedulepb.Schedule), s.token+1
	return &workflowservice.UpdateScheduleResponse{}, nil
}

func (f *fakeSchedules) PatchSchedule(_ context.Context, req *workflowservice.PatchScheduleRequest) (*workflowservice.PatchScheduleResponse, error) {
	f.smu.Lock()
	defer f.smu.Unlock()
	s, err := f.scheduleNamed(req.ScheduleId)
	if err != nil {
		return nil, err
	}
	f.patches = append(f.patches, req)
	if s.schedule.State == nil {
		s.schedule.State = &schedulepb.ScheduleState{}
	}
	switch {
	case req.Patch.Pause != "":
		s.schedule.State.Paused, s.schedule.State.Notes, s.token = true, req.Patch.Pause, s.token+1
	case req.Patch.Unpause != "":
		s.schedule.State.Paused, s.schedule.State.Notes, s.token = false, req.Patch.Unpause, s.token+1
	}
	return &workflowservice.PatchScheduleResponse{}, nil
}

func (f *fakeSchedules) DeleteSchedule(_ context.Context, req *workflowservice.DeleteScheduleRequest) (*workflowservice.DeleteScheduleResponse, error) {
	f.smu.Lock()
	defer f.smu.Unlock()
	if _, err := f.scheduleNamed(req.ScheduleId); err != nil {
		return nil, err
	}
	delete(f.schedules, req.ScheduleId)
	return &workflowservice.DeleteScheduleResponse{}, nil
}

func (f *fakeSchedules) ListSchedules(_ context.Context, req *workflowservice.ListSchedulesRequest) (*workflowservice.ListSchedulesResponse, error) {
	f.smu.Lock()
	defer f.smu.Unlock()
	if f.scheduleErr != nil {
		return nil, f.scheduleErr
	}
	if string(req.NextPageToken) == "bad" {
		return nil, serviceerror.NewInvalidArgument(secret)
	}
	resp := &workflowservice.ListSchedulesResponse{}
	for _, id := range slices.Sorted(maps.Keys(f.schedules)) {
		s := f.schedules[id].schedule
		resp.Schedules = append(resp.Schedules, &schedulepb.ScheduleListEntry{ScheduleId: id, Info: &schedulepb.ScheduleListInfo{
			WorkflowType: s.GetAction().GetStartWorkflow().GetWorkflowType(), Paused: s.GetState().GetPaused(), Notes: s.GetState().GetNotes(),
		}})
	}
	return resp, nil
}

// withGreetingSchedule gives the fake a schedule id whose action greets Ada every hour.
func withGreetingSchedule(f *fakeTemporal, id string) *fakeTemporal {
	if f.schedules == nil {
		f.schedules = map[string]*fakeSchedule{}
	}
	f.schedules[id] = &fakeSchedule{token: 1, schedule: &schedulepb.Schedule{
		Spec: &schedulepb.ScheduleSpec{Interval: []*schedulepb.IntervalSpec{{Interval: durationpb.New(time.Hour)}}},
		Action: &schedulepb.ScheduleAction{Action: &schedulepb.ScheduleAction_StartWorkflow{StartWorkflow: &workflowpb.NewWorkflowExecutionInfo{
			WorkflowId: "greet", WorkflowType: &commonpb.WorkflowType{Name: "Greeting"},
			TaskQueue: &taskqueuepb.TaskQueue{Name: defaultTaskQueue}, Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{jsonPayload(`{"name":"Ada"}`)}},
		}}},
		Policies: &schedulepb.SchedulePolicies{}, State: &schedulepb.ScheduleState{},
	}}
	return f
}

package executions

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
)

// Status is an execution's status, named as the contract names it: Temporal's names without the
// prefix.
type Status string

// The statuses.
const (
	StatusRunning        Status = "RUNNING"
	StatusCompleted      Status = "COMPLETED"
	StatusFailed         Status = "FAILED"
	StatusCanceled       Status = "CANCELED"
	StatusTerminated     Status = "TERMINATED"
	StatusContinuedAsNew Status = "CONTINUED_AS_NEW"
	StatusTimedOut       Status = "TIMED_OUT"
)

var statuses = map[enumspb.WorkflowExecutionStatus]Status{
	enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:          StatusRunning,
	enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:        StatusCompleted,
	enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:           StatusFailed,
	enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:         StatusCanceled,
	enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:       StatusTerminated,
	enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: StatusContinuedAsNew,
	enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:        StatusTimedOut,
}

// Execution is one run of a workflow as the gateway tells of it. What a read learns from Describe
// (StartTime, ExecutionTime, SearchAttributes) is zero when the execution is known only from its
// start, and from its close event.
type Execution struct {
	// source is where what is known of the run comes from.
	source source

	WorkflowID, RunID, WorkflowType, TaskQueue string
	Status                                     Status
	StartTime, ExecutionTime, CloseTime        *time.Time
	HistoryLength                              int64
	// Result is the return value as JSON, present exactly when the status is COMPLETED.
	Result json.RawMessage
	// Failure is why a FAILED, TIMED_OUT, CANCELED or TERMINATED run did not complete.
	Failure          *Failure
	Memo             map[string]json.RawMessage
	SearchAttributes map[string]json.RawMessage
	// NextRunID is the run that continues this one: continue-as-new, the next cron run, a retry.
	NextRunID string
}

// source is where what the gateway knows of a run comes from.
type source int

const (
	// fromIDs: its ids only, and that it runs (a reader that joined others' wait).
	fromIDs source = iota
	// fromStart: what the start that began it knows.
	fromStart
	// fromDescribe: Temporal's Describe (or a list).
	fromDescribe
)

// Running says whether the execution is still running.
func (e Execution) Running() bool { return e.Status == StatusRunning }

// Failure is why an execution, a query or an update did not complete: what a caller can act on,
// without the stack traces, which describe the worker's code rather than the caller's request.
type Failure struct {
	Message string
	// Type is the application error's type, or names the kind of failure (TimeoutError, ...).
	Type         string
	NonRetryable *bool
	Cause        *Failure
}

// fromInfo builds the Execution, without result or failure, from what Temporal tells of a run
// in Describe's answer and in a list's.
func fromInfo(info *workflowpb.WorkflowExecutionInfo) (Execution, error) {
	status, ok := statuses[info.GetStatus()]
	if !ok {
		return Execution{}, fmt.Errorf("workflow %q run %q: unknown status %v",
			info.GetExecution().GetWorkflowId(), info.GetExecution().GetRunId(), info.GetStatus())
	}
	startTime := info.GetStartTime().AsTime()
	exec := Execution{
		source:        fromDescribe,
		WorkflowID:    info.GetExecution().GetWorkflowId(),
		RunID:         info.GetExecution().GetRunId(),
		WorkflowType:  info.GetType().GetName(),
		TaskQueue:     info.GetTaskQueue(),
		Status:        status,
		StartTime:     &startTime,
		HistoryLength: info.GetHistoryLength(),
	}
	if t := info.GetExecutionTime(); t != nil {
		v := t.AsTime()
		exec.ExecutionTime = &v
	}
	if t := info.GetCloseTime(); t != nil && status != StatusRunning {
		v := t.AsTime()
		exec.CloseTime = &v
	}
	if fields := info.GetMemo().GetFields(); len(fields) > 0 {
		m := payloadMap(fields)
		delete(m, RecordField) // the gateway's own record, not the caller's memo
		if len(m) > 0 {
			exec.Memo = m
		}
	}
	if fields := info.GetSearchAttributes().GetIndexedFields(); len(fields) > 0 {
		exec.SearchAttributes = payloadMap(fields)
	}
	return exec, nil
}

// closeEventTypes are the events that close a run.
var closeEventTypes = map[enumspb.EventType]Status{
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:        StatusCompleted,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:           StatusFailed,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:        StatusTimedOut,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:         StatusCanceled,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:       StatusTerminated,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: StatusContinuedAsNew,
}

// closedBy is exec as the close event leaves it: its status (unless a Describe of the closed run
// told it already), its close time, its length, and what it ended with: result, failure, next
// run.
//
// A run that another follows without the workflow asking (a cron run, a retry) closes as
// completed, failed or timed out, naming the next run. The gateway asks for such close events as
// they are (followsNextRun); a server that hands a stand-in instead, a continue-as-new event
// holding only the next run and the result or the failure, is read by what the stand-in holds.
func closedBy(exec Execution, event *historypb.HistoryEvent) Execution {
	if exec.Running() {
		exec.Status = closeEventTypes[event.GetEventType()]
		if a := event.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil && standIn(a) {
			switch {
			case a.GetFailure().GetTimeoutFailureInfo() != nil:
				exec.Status = StatusTimedOut
			case a.GetFailure() != nil:
				exec.Status = StatusFailed
			default:
				exec.Status = StatusCompleted
			}
		}
	}
	if t := event.GetEventTime(); t != nil && exec.CloseTime == nil {
		v := t.AsTime()
		exec.CloseTime = &v
	}
	// The close event is the last event: its id is the length of the history.
	exec.HistoryLength = max(exec.HistoryLength, event.GetEventId())
	var nextRunID string
	switch {
	case event.GetWorkflowExecutionCompletedEventAttributes() != nil:
		a := event.GetWorkflowExecutionCompletedEventAttributes()
		exec.Result = payloadsJSON(a.GetResult())
		nextRunID = a.GetNewExecutionRunId()
	case event.GetWorkflowExecutionFailedEventAttributes() != nil:
		a := event.GetWorkflowExecutionFailedEventAttributes()
		exec.Failure = failureOf(a.GetFailure())
		nextRunID = a.GetNewExecutionRunId()
	case event.GetWorkflowExecutionTimedOutEventAttributes() != nil:
		a := event.GetWorkflowExecutionTimedOutEventAttributes()
		exec.Failure = &Failure{Message: "workflow execution timed out", Type: "TimeoutError"}
		nextRunID = a.GetNewExecutionRunId()
	case event.GetWorkflowExecutionCanceledEventAttributes() != nil:
		exec.Failure = &Failure{Message: "workflow execution canceled", Type: "CanceledError"}
	case event.GetWorkflowExecutionTerminatedEventAttributes() != nil:
		msg := event.GetWorkflowExecutionTerminatedEventAttributes().GetReason()
		if msg == "" {
			msg = "workflow execution terminated"
		}
		exec.Failure = &Failure{Message: msg, Type: "TerminatedError"}
	case event.GetWorkflowExecutionContinuedAsNewEventAttributes() != nil:
		// A workflow's own continue-as-new, or a stand-in for a cron or retry run's close (see
		// standIn): what the run completed with or failed with.
		a := event.GetWorkflowExecutionContinuedAsNewEventAttributes()
		nextRunID = a.GetNewExecutionRunId()
		switch exec.Status {
		case StatusCompleted:
			exec.Result = payloadsJSON(a.GetLastCompletionResult())
		case StatusFailed:
			exec.Failure = failureOf(a.GetFailure())
		case StatusTimedOut:
			exec.Failure = &Failure{Message: "workflow execution timed out", Type: "TimeoutError"}
		}
	}
	if exec.Status == StatusCompleted && exec.Result == nil {
		exec.Result = json.RawMessage("null")
	}
	if exec.Status == StatusFailed && exec.Failure == nil {
		exec.Failure = &Failure{Message: "workflow execution failed"}
	}
	if nextRunID != "" {
		exec.NextRunID = nextRunID
	}
	return exec
}

// standIn says whether a continue-as-new event is the stand-in that server 1.29 makes of a cron
// or retry run's close for a client that does not follow next runs: it names the next run, but
// no workflow type and no workflow task, which a workflow's own continue-as-new always has. (The
// initiator does not tell them apart: the Go SDK leaves it unset when a workflow continues.)
func standIn(a *historypb.WorkflowExecutionContinuedAsNewEventAttributes) bool {
	switch a.GetInitiator() {
	case enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE, enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY:
		return true
	}
	return a.GetWorkflowType() == nil && a.GetWorkflowTaskCompletedEventId() == 0
}

// failureOf keeps what a caller can act on: message, type, retryability and cause.
func failureOf(f *failurepb.Failure) *Failure {
	if f == nil {
		return nil
	}
	out := &Failure{Message: f.GetMessage(), Cause: failureOf(f.GetCause())}
	switch {
	case f.GetApplicationFailureInfo() != nil:
		info := f.GetApplicationFailureInfo()
		out.Type = info.GetType()
		out.NonRetryable = ptr(info.GetNonRetryable())
	case f.GetServerFailureInfo() != nil:
		out.Type = "ServerError"
		out.NonRetryable = ptr(f.GetServerFailureInfo().GetNonRetryable())
	case f.GetTimeoutFailureInfo() != nil:
		out.Type = "TimeoutError"
	case f.GetCanceledFailureInfo() != nil:
		out.Type = "CanceledError"
	case f.GetTerminatedFailureInfo() != nil:
		out.Type = "TerminatedError"
	case f.GetActivityFailureInfo() != nil:
		out.Type = "ActivityError"
	case f.GetChildWorkflowExecutionFailureInfo() != nil:
		out.Type = "ChildWorkflowError"
	case f.GetNexusOperationExecutionFailureInfo() != nil:
		out.Type = "NexusOperationError"
	case f.GetResetWorkflowFailureInfo() != nil:
		out.Type = "ResetWorkflowError"
	}
	return out
}

// payloadsJSON renders a workflow's return value: one payload as itself, several as an array.
func payloadsJSON(p *commonpb.Payloads) json.RawMessage {
	switch list := p.GetPayloads(); len(list) {
	case 0:
		return json.RawMessage("null")
	case 1:
		return PayloadJSON(list[0])
	default:
		items := make([]json.RawMessage, len(list))
		for i, item := range list {
			items[i] = PayloadJSON(item)
		}
		out, _ := json.Marshal(items)
		return out
	}
}

// PayloadJSON renders one payload as real JSON when it holds JSON. Other encodings (binary,
// protobuf, encrypted by a codec) cannot be read here and come as their encoding and base64 data.
func PayloadJSON(p *commonpb.Payload) json.RawMessage {
	encoding := string(p.GetMetadata()["encoding"])
	switch encoding {
	case "json/plain", "json/protobuf":
		if json.Valid(p.GetData()) {
			return p.GetData()
		}
	case "binary/null":
		return json.RawMessage("null")
	}
	out, _ := json.Marshal(struct {
		Encoding string `json:"encoding"`
		Data     string `json:"data"`
	}{encoding, base64.StdEncoding.EncodeToString(p.GetData())})
	return out
}

func payloadMap(fields map[string]*commonpb.Payload) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		out[k] = PayloadJSON(v)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

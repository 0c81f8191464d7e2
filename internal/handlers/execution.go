package handlers

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
)

var statusNames = map[enumspb.WorkflowExecutionStatus]gen.ExecutionStatus{
	enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:          gen.ExecutionStatusRUNNING,
	enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:        gen.ExecutionStatusCOMPLETED,
	enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:           gen.ExecutionStatusFAILED,
	enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:         gen.ExecutionStatusCANCELED,
	enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:       gen.ExecutionStatusTERMINATED,
	enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: gen.ExecutionStatusCONTINUEDASNEW,
	enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:        gen.ExecutionStatusTIMEDOUT,
}

// executionFromDescribe builds the Execution resource from Describe's answer. The result or
// failure of a closed run is added by withCloseEvent.
func executionFromDescribe(resp *workflowservice.DescribeWorkflowExecutionResponse) (gen.Execution, error) {
	exec, err := executionFromInfo(resp.GetWorkflowExecutionInfo())
	if err != nil {
		return gen.Execution{}, fmt.Errorf("describe: %w", err)
	}
	return exec, nil
}

// executionFromInfo builds the Execution resource, without result or failure, from what Temporal
// tells of a run in Describe's answer and in a list's.
func executionFromInfo(info *workflowpb.WorkflowExecutionInfo) (gen.Execution, error) {
	status, ok := statusNames[info.GetStatus()]
	if !ok {
		return gen.Execution{}, fmt.Errorf("workflow %q run %q: unknown status %v",
			info.GetExecution().GetWorkflowId(), info.GetExecution().GetRunId(), info.GetStatus())
	}
	exec := gen.Execution{
		WorkflowId:    info.GetExecution().GetWorkflowId(),
		RunId:         info.GetExecution().GetRunId(),
		WorkflowType:  info.GetType().GetName(),
		TaskQueue:     info.GetTaskQueue(),
		Status:        status,
		StartTime:     info.GetStartTime().AsTime(),
		HistoryLength: info.GetHistoryLength(),
	}
	if t := info.GetExecutionTime(); t != nil {
		v := t.AsTime()
		exec.ExecutionTime = &v
	}
	if t := info.GetCloseTime(); t != nil && status != gen.ExecutionStatusRUNNING {
		v := t.AsTime()
		exec.CloseTime = &v
	}
	if fields := info.GetMemo().GetFields(); len(fields) > 0 {
		m := payloadMap(fields)
		delete(m, executions.RecordField) // the gateway's own record, not the caller's memo
		if len(m) > 0 {
			exec.Memo = &m
		}
	}
	if fields := info.GetSearchAttributes().GetIndexedFields(); len(fields) > 0 {
		m := payloadMap(fields)
		exec.SearchAttributes = &m
	}
	return exec, nil
}

// withCloseEvent adds what a closed run ended with: its result, its failure, its next run.
func withCloseEvent(exec *gen.Execution, event *historypb.HistoryEvent) {
	var nextRunID string
	switch {
	case event.GetWorkflowExecutionCompletedEventAttributes() != nil:
		a := event.GetWorkflowExecutionCompletedEventAttributes()
		result := payloadsJSON(a.GetResult())
		exec.Result = &result
		nextRunID = a.GetNewExecutionRunId()
	case event.GetWorkflowExecutionFailedEventAttributes() != nil:
		a := event.GetWorkflowExecutionFailedEventAttributes()
		exec.Failure = failureJSON(a.GetFailure())
		nextRunID = a.GetNewExecutionRunId()
	case event.GetWorkflowExecutionTimedOutEventAttributes() != nil:
		a := event.GetWorkflowExecutionTimedOutEventAttributes()
		exec.Failure = &gen.Failure{Message: "workflow execution timed out", Type: ptr("TimeoutError")}
		nextRunID = a.GetNewExecutionRunId()
	case event.GetWorkflowExecutionCanceledEventAttributes() != nil:
		exec.Failure = &gen.Failure{Message: "workflow execution canceled", Type: ptr("CanceledError")}
	case event.GetWorkflowExecutionTerminatedEventAttributes() != nil:
		msg := event.GetWorkflowExecutionTerminatedEventAttributes().GetReason()
		if msg == "" {
			msg = "workflow execution terminated"
		}
		exec.Failure = &gen.Failure{Message: msg, Type: ptr("TerminatedError")}
	case event.GetWorkflowExecutionContinuedAsNewEventAttributes() != nil:
		// A cron or retry run can close with this event while Describe calls it COMPLETED or
		// FAILED; the event then carries what the run completed with or failed with.
		a := event.GetWorkflowExecutionContinuedAsNewEventAttributes()
		nextRunID = a.GetNewExecutionRunId()
		switch exec.Status {
		case gen.ExecutionStatusCOMPLETED:
			result := payloadsJSON(a.GetLastCompletionResult())
			exec.Result = &result
		case gen.ExecutionStatusFAILED:
			exec.Failure = failureJSON(a.GetFailure())
		}
	}
	if exec.Status == gen.ExecutionStatusCOMPLETED && exec.Result == nil {
		exec.Result = ptr(json.RawMessage("null"))
	}
	if exec.Status == gen.ExecutionStatusFAILED && exec.Failure == nil {
		exec.Failure = &gen.Failure{Message: "workflow execution failed"}
	}
	if nextRunID != "" {
		exec.NextRunId = &nextRunID
	}
}

// failureJSON keeps what a caller can act on: message, type, retryability and cause. Stack traces
// stay out: they describe the worker's code, not the caller's request.
func failureJSON(f *failurepb.Failure) *gen.Failure {
	if f == nil {
		return nil
	}
	out := &gen.Failure{Message: f.GetMessage(), Cause: failureJSON(f.GetCause())}
	switch {
	case f.GetApplicationFailureInfo() != nil:
		info := f.GetApplicationFailureInfo()
		if info.GetType() != "" {
			out.Type = ptr(info.GetType())
		}
		out.NonRetryable = ptr(info.GetNonRetryable())
	case f.GetServerFailureInfo() != nil:
		out.Type = ptr("ServerError")
		out.NonRetryable = ptr(f.GetServerFailureInfo().GetNonRetryable())
	case f.GetTimeoutFailureInfo() != nil:
		out.Type = ptr("TimeoutError")
	case f.GetCanceledFailureInfo() != nil:
		out.Type = ptr("CanceledError")
	case f.GetTerminatedFailureInfo() != nil:
		out.Type = ptr("TerminatedError")
	case f.GetActivityFailureInfo() != nil:
		out.Type = ptr("ActivityError")
	case f.GetChildWorkflowExecutionFailureInfo() != nil:
		out.Type = ptr("ChildWorkflowError")
	case f.GetNexusOperationExecutionFailureInfo() != nil:
		out.Type = ptr("NexusOperationError")
	case f.GetResetWorkflowFailureInfo() != nil:
		out.Type = ptr("ResetWorkflowError")
	}
	return out
}

// payloadsJSON renders a workflow's return value: one payload as itself, several as an array.
func payloadsJSON(p *commonpb.Payloads) json.RawMessage {
	switch list := p.GetPayloads(); len(list) {
	case 0:
		return json.RawMessage("null")
	case 1:
		return payloadJSON(list[0])
	default:
		items := make([]json.RawMessage, len(list))
		for i, item := range list {
			items[i] = payloadJSON(item)
		}
		out, _ := json.Marshal(items)
		return out
	}
}

// payloadJSON renders one payload as real JSON when it holds JSON. Other encodings (binary,
// protobuf, encrypted by a codec) cannot be read here and come as their encoding and base64 data.
func payloadJSON(p *commonpb.Payload) json.RawMessage {
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
		out[k] = payloadJSON(v)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

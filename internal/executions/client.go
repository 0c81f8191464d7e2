package executions

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// Client is what the core needs of Temporal: the SDK client's calls that it makes, a start that
// says whether it started a run (which ExecuteWorkflow does not), and a page of history with the
// token of the next (which the SDK's history iterator keeps to itself). SDK satisfies it over the
// SDK's client; unit tests use small fakes.
type Client interface {
	// Start starts a workflow, or signals- or updates-with-start one, and says whether it
	// started a run.
	Start(ctx context.Context, call StartCall) (StartAnswer, error)
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
	GetWorkflowExecutionHistory(ctx context.Context, request *workflowservice.GetWorkflowExecutionHistoryRequest) (*workflowservice.GetWorkflowExecutionHistoryResponse, error)
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	GetWorkflowUpdateHandle(ref client.GetWorkflowUpdateHandleOptions) client.WorkflowUpdateHandle
	CancelWorkflowWithOptions(ctx context.Context, options client.CancelWorkflowOptions) error
	TerminateWorkflow(ctx context.Context, workflowID, runID, reason string, details ...any) error
}

// StartCall is one start, or one signal-with-start, as Temporal gets it.
type StartCall struct {
	Options      client.StartWorkflowOptions
	WorkflowType string
	Args         []any
	// Signal makes the call a signal-with-start.
	Signal *SignalCall
	// Update makes the call an update-with-start; it excludes Signal.
	Update *UpdateCall
	// RequestID is the id by which Temporal recognises a repeated request; empty lets the SDK
	// choose a new one.
	RequestID string
	// Header fields are added to the request's header; a signal-with-start records them on the
	// signal it delivers as well as on the run it starts.
	Header map[string]*commonpb.Payload
}

// SignalCall is the signal of a signal-with-start.
type SignalCall struct {
	Name string
	Arg  any
}

// UpdateCall is the update of an update-with-start.
type UpdateCall struct {
	Name, ID string
	Arg      any
}

// StartAnswer is what Temporal answered a start with.
type StartAnswer struct {
	RunID string
	// Started is false when an existing run answered the call: USE_EXISTING, or a
	// signal-with-start that signalled a running execution.
	Started bool
	// Status is the status of the run named, when Temporal tells it (a plain start does): a
	// start it recognised as a repeat of an earlier request names that request's run, which may
	// have closed since.
	Status enumspb.WorkflowExecutionStatus
	// Update is the outcome of an update-with-start's update, which completed: its result, or
	// what the workflow answered instead (its validator's rejection, its handler's failure), or
	// that the outcome could not be read. The run was started or found either way.
	Update *UpdateAnswer
}

// UpdateAnswer is the outcome of an update-with-start's update.
type UpdateAnswer struct {
	Result converter.RawValue
	Err    error
}

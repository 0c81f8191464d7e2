package handlers

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/temporalhttp/gateway/internal/executions"
)

// TemporalClient is the part of the Temporal client the handlers use, starts included (those
// through the executions core). executions.SDK satisfies it in production; unit tests use a
// small fake.
type TemporalClient interface {
	executions.Client
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	CancelWorkflowWithOptions(ctx context.Context, options client.CancelWorkflowOptions) error
	TerminateWorkflow(ctx context.Context, workflowID, runID, reason string, details ...any) error
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	// WorkflowService is the raw service, for the one call the client wraps too tightly: a page of
	// history together with the token of the next page.
	WorkflowService() workflowservice.WorkflowServiceClient
}

var _ TemporalClient = (*executions.SDK)(nil)

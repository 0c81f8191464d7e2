package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"

	"github.com/temporalhttp/gateway/internal/gen"
)

// SignalWorkflow delivers a signal to a running execution.
func (s *Server) SignalWorkflow(ctx context.Context, req gen.SignalWorkflowRequestObject) (gen.SignalWorkflowResponseObject, error) {
	var input *json.RawMessage
	var runID string
	if req.Body != nil {
		input, runID = req.Body.Input, deref(req.Body.RunId)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	if err := s.opts.Client.SignalWorkflow(ctx, req.WorkflowId, runID, req.SignalName, argument(input)); err != nil {
		return nil, s.closedOrMissing(ctx, "signal", req.WorkflowId, runID, err)
	}
	return gen.SignalWorkflow202Response{}, nil
}

// QueryWorkflow runs a query handler of the execution and answers its result.
func (s *Server) QueryWorkflow(ctx context.Context, req gen.QueryWorkflowRequestObject) (gen.QueryWorkflowResponseObject, error) {
	var args []any
	var runID string
	if req.Body != nil {
		runID = deref(req.Body.RunId)
		if req.Body.Args != nil {
			for _, a := range *req.Body.Args {
				args = append(args, a)
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	value, err := s.opts.Client.QueryWorkflow(ctx, req.WorkflowId, runID, req.QueryType, args...)
	if err != nil {
		var failed *serviceerror.QueryFailed
		if errors.As(err, &failed) {
			return nil, rejectedProblem(
				"The workflow rejected the query, or has no query handler of this name.", nil)
		}
		if noWorker(ctx, err) {
			return nil, noWorkerProblem()
		}
		return nil, s.closedOrMissing(ctx, "query", req.WorkflowId, runID, err)
	}
	var raw converter.RawValue
	if err := value.Get(&raw); err != nil {
		return nil, &executionError{"decode query result of", req.WorkflowId, runID, err}
	}
	return gen.QueryWorkflow200JSONResponse{Result: payloadJSON(raw.Payload())}, nil
}

// UpdateWorkflow runs an update handler of the execution and answers once it has completed.
func (s *Server) UpdateWorkflow(ctx context.Context, req gen.UpdateWorkflowRequestObject) (gen.UpdateWorkflowResponseObject, error) {
	opts := client.UpdateWorkflowOptions{
		UpdateID:     uuid.NewString(),
		WorkflowID:   req.WorkflowId,
		UpdateName:   req.UpdateName,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	if req.Body != nil {
		opts.RunID = deref(req.Body.RunId)
		if req.Body.UpdateId != nil {
			opts.UpdateID = *req.Body.UpdateId
		}
		opts.Args = arguments(req.Body.Input)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	handle, err := s.opts.Client.UpdateWorkflow(ctx, opts)
	var raw converter.RawValue
	if err == nil {
		err = handle.Get(ctx, &raw)
	}
	if err != nil {
		if workflowFailure(err) {
			// The workflow's validator or handler said no: its failure is the caller's answer.
			return nil, rejectedProblem(
				"The workflow rejected the update, or its handler failed; failure says why.",
				failureJSON(temporal.GetDefaultFailureConverter().ErrorToFailure(err)))
		}
		if noWorker(ctx, err) {
			return nil, noWorkerProblem()
		}
		return nil, s.closedOrMissing(ctx, "update", req.WorkflowId, opts.RunID, err)
	}
	return gen.UpdateWorkflow200JSONResponse{UpdateId: opts.UpdateID, Result: payloadJSON(raw.Payload())}, nil
}

// CancelWorkflow requests cancellation of a running execution.
func (s *Server) CancelWorkflow(ctx context.Context, req gen.CancelWorkflowRequestObject) (gen.CancelWorkflowResponseObject, error) {
	opts := client.CancelWorkflowOptions{WorkflowID: req.WorkflowId}
	if req.Body != nil {
		opts.RunID, opts.Reason = deref(req.Body.RunId), deref(req.Body.Reason)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	// Temporal accepts a repeated cancel of a run that has since closed as canceled, so only a
	// read first tells a closed execution (409) apart. Cancels are rare; the read is cheap.
	exec, err := s.read(ctx, req.WorkflowId, opts.RunID)
	if err != nil {
		return nil, err
	}
	if exec.Status != gen.ExecutionStatusRUNNING {
		return nil, closedProblem(req.WorkflowId, exec.RunId)
	}
	err = s.opts.Client.CancelWorkflowWithOptions(ctx, opts)
	var already *serviceerror.CancellationAlreadyRequested
	if err != nil && !errors.As(err, &already) {
		return nil, s.closedOrMissing(ctx, "cancel", req.WorkflowId, opts.RunID, err)
	}
	return gen.CancelWorkflow202Response{}, nil
}

// TerminateWorkflow ends a running execution at once.
func (s *Server) TerminateWorkflow(ctx context.Context, req gen.TerminateWorkflowRequestObject) (gen.TerminateWorkflowResponseObject, error) {
	var runID, reason string
	if req.Body != nil {
		runID, reason = deref(req.Body.RunId), deref(req.Body.Reason)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	if err := s.opts.Client.TerminateWorkflow(ctx, req.WorkflowId, runID, reason); err != nil {
		return nil, s.closedOrMissing(ctx, "terminate", req.WorkflowId, runID, err)
	}
	return gen.TerminateWorkflow202Response{}, nil
}

// ListWorkflowTypes lists the hosted workflow types.
func (s *Server) ListWorkflowTypes(context.Context, gen.ListWorkflowTypesRequestObject) (gen.ListWorkflowTypesResponseObject, error) {
	list := make([]gen.WorkflowType, len(s.opts.WorkflowTypes))
	for i, t := range s.opts.WorkflowTypes {
		list[i] = gen.WorkflowType{Name: t.Name, Description: t.Description}
	}
	return gen.ListWorkflowTypes200JSONResponse{WorkflowTypes: list}, nil
}

// closedOrMissing tells a closed execution (409) from a missing one (404) when Temporal answered
// NotFound, which it does for both; any other error passes through.
func (s *Server) closedOrMissing(ctx context.Context, op, workflowID, runID string, err error) error {
	if serviceerror.ToStatus(err).Code() != codes.NotFound {
		return &executionError{op, workflowID, runID, err}
	}
	var namespace *serviceerror.NamespaceNotFound
	if errors.As(err, &namespace) {
		return &executionError{op, workflowID, runID, err}
	}
	desc, descErr := s.opts.Client.DescribeWorkflowExecution(ctx, workflowID, runID)
	if descErr != nil {
		return &executionError{op, workflowID, runID, err} // missing: 404
	}
	return closedProblem(workflowID, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
}

func closedProblem(workflowID, runID string) *problemError {
	p := newProblem(http.StatusConflict, problemClosed, "Workflow execution closed",
		"The execution has already closed; only a running execution accepts this.")
	p.workflowID, p.runID = workflowID, runID
	return p
}

// argument turns an optional JSON value into a workflow argument; absent or null is none.
func argument(v *json.RawMessage) any {
	if v == nil || string(bytes.TrimSpace(*v)) == "null" {
		return nil
	}
	return *v
}

// arguments is argument as a list: empty for none, so that no null payload is sent.
func arguments(v *json.RawMessage) []any {
	if a := argument(v); a != nil {
		return []any{a}
	}
	return nil
}

// workflowFailure says whether err is a failure the workflow produced (converted from Temporal's
// failure proto) rather than an error of the call itself.
func workflowFailure(err error) bool {
	var app *temporal.ApplicationError
	var canceled *temporal.CanceledError
	return errors.As(err, &app) || errors.As(err, &canceled)
}

// noWorker says whether a query or update ran out of time waiting for a worker.
func noWorker(ctx context.Context, err error) bool {
	return errors.Is(ctx.Err(), context.DeadlineExceeded) || serviceerror.ToStatus(err).Code() == codes.DeadlineExceeded
}

func rejectedProblem(detail string, failure *gen.Failure) *problemError {
	p := newProblem(http.StatusUnprocessableEntity, problemRejected, "Rejected by the workflow", detail)
	p.failure = failure
	return p
}

func noWorkerProblem() *problemError {
	return newProblem(http.StatusGatewayTimeout, problemNoWorker, "No worker answered",
		"No worker answered in time: none may be running for the task queue, or it is overloaded.")
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

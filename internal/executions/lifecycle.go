package executions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
)

// ClosedError says that an execution has closed, and only a running one accepts what was asked.
type ClosedError struct {
	WorkflowID, RunID string
}

func (e *ClosedError) Error() string {
	return fmt.Sprintf("workflow %q run %q has closed", e.WorkflowID, e.RunID)
}

// RejectedError says that the workflow refused a query or an update: no handler of the name, a
// validator or a handler that said no. Failure is what it answered, when it did.
type RejectedError struct {
	Query   bool // false: an update
	Failure *Failure
	Err     error
}

func (e *RejectedError) Error() string { return "rejected by the workflow: " + e.Err.Error() }

func (e *RejectedError) Unwrap() error { return e.Err }

// ErrNoWorker says that no worker answered a query or an update in time.
var ErrNoWorker = errors.New("no worker answered in time")

// Signal delivers a signal to a running execution (the latest run when runID is empty).
func (s *Service) Signal(ctx context.Context, workflowID, runID, name string, input json.RawMessage) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.client.SignalWorkflow(ctx, workflowID, runID, name, argument(input)); err != nil {
		return s.closedOrMissing(ctx, "signal", workflowID, runID, err)
	}
	return nil
}

// Query runs a query handler of the execution and answers its result as JSON.
func (s *Service) Query(ctx context.Context, workflowID, runID, name string, args []json.RawMessage) (json.RawMessage, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	list := make([]any, len(args))
	for i, a := range args {
		list[i] = a
	}
	value, err := s.client.QueryWorkflow(ctx, workflowID, runID, name, list...)
	if err != nil {
		var failed *serviceerror.QueryFailed
		switch {
		case errors.As(err, &failed):
			return nil, &RejectedError{Query: true, Err: err}
		case noWorker(ctx, err):
			return nil, fmt.Errorf("query %q of workflow %q: %w", name, workflowID, ErrNoWorker)
		}
		return nil, s.closedOrMissing(ctx, "query", workflowID, runID, err)
	}
	var raw converter.RawValue
	if err := value.Get(&raw); err != nil {
		return nil, &Error{"decode query result of", workflowID, runID, err}
	}
	return PayloadJSON(raw.Payload()), nil
}

// Update runs an update handler of the execution and answers its result once it has completed.
// An empty updateID gets a new one; the id is answered either way.
func (s *Service) Update(ctx context.Context, workflowID, runID, name, updateID string, input json.RawMessage) (string, json.RawMessage, error) {
	if updateID == "" {
		updateID = uuid.NewString()
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	handle, err := s.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: updateID, WorkflowID: workflowID, RunID: runID, UpdateName: name,
		WaitForStage: client.WorkflowUpdateStageCompleted, Args: arguments(input),
	})
	var raw converter.RawValue
	if err == nil {
		err = handle.Get(ctx, &raw)
	}
	if err != nil {
		switch {
		case workflowFailure(err):
			// The workflow's validator or handler said no: its failure is the caller's answer.
			return updateID, nil, &RejectedError{Failure: failureOf(temporal.GetDefaultFailureConverter().ErrorToFailure(err)), Err: err}
		case noWorker(ctx, err):
			return updateID, nil, fmt.Errorf("update %q of workflow %q: %w", name, workflowID, ErrNoWorker)
		}
		return updateID, nil, s.closedOrMissing(ctx, "update", workflowID, runID, err)
	}
	return updateID, PayloadJSON(raw.Payload()), nil
}

// Cancel requests cancellation of a running execution.
func (s *Service) Cancel(ctx context.Context, workflowID, runID, reason string) error {
	// Temporal accepts a repeated cancel of a run that has since closed as canceled, so only a read
	// first tells a closed execution apart. Cancels are rare; the read is cheap.
	exec, err := s.Describe(ctx, workflowID, runID)
	if err != nil {
		return err
	}
	if !exec.Running() {
		return &ClosedError{workflowID, exec.RunID}
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	err = s.client.CancelWorkflowWithOptions(ctx, client.CancelWorkflowOptions{WorkflowID: workflowID, RunID: runID, Reason: reason})
	var already *serviceerror.CancellationAlreadyRequested
	if err != nil && !errors.As(err, &already) {
		return s.closedOrMissing(ctx, "cancel", workflowID, runID, err)
	}
	return nil
}

// Terminate ends a running execution at once.
func (s *Service) Terminate(ctx context.Context, workflowID, runID, reason string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.client.TerminateWorkflow(ctx, workflowID, runID, reason); err != nil {
		return s.closedOrMissing(ctx, "terminate", workflowID, runID, err)
	}
	return nil
}

// closedOrMissing tells a closed execution (ClosedError) from a missing one when Temporal
// answered NotFound, which it does for both; any other error passes through, naming the execution.
func (s *Service) closedOrMissing(ctx context.Context, op, workflowID, runID string, err error) error {
	var namespace *serviceerror.NamespaceNotFound
	if serviceerror.ToStatus(err).Code() != codes.NotFound || errors.As(err, &namespace) {
		return &Error{op, workflowID, runID, err}
	}
	desc, descErr := s.client.DescribeWorkflowExecution(ctx, workflowID, runID)
	if descErr != nil {
		return &Error{op, workflowID, runID, err} // missing
	}
	return &ClosedError{workflowID, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()}
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

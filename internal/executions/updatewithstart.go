package executions

import (
	"context"
	"encoding/json"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// An update-with-start runs an update on the running execution of a workflow id, starting the
// execution first when none is running (Temporal's ExecuteMultiOperation, one atomic call): "add
// this item to the cart, creating the cart if needed". What Temporal does, in server 1.29:
//
//   - The start and the update's admission are one transaction: either the run is started (or
//     found) and the update admitted, or nothing is done.
//   - The update's validator runs on the run's first workflow task, after the start. A rejection
//     leaves no trace in the history, but it does not undo the start: the run was started and
//     stays running. The answer says so (Started.Created with a rejected Update).
//   - An update id is applied once per run: the same request repeated finds its update,
//     completed or in progress, and attaches to it, even after that run closed, as long as no
//     later run holds the workflow id.
//
// With an Idempotency-Key the start goes through the key's record, as every keyed start does
// (keyed.go): a retry never starts or updates anything twice, and is answered with the first
// request's outcome, the update's result read again from Temporal by its id, or its rejection
// from the record, since Temporal keeps no rejected update.

// UpdateOutcome is what the update of an update-with-start came to.
type UpdateOutcome struct {
	ID     string
	Result json.RawMessage
	// Rejected is what the workflow answered instead of a result: its validator's rejection or
	// its handler's failure.
	Rejected *RejectedError
	// Err says that the outcome could not be learnt (the update may yet complete, and a retry
	// with the same update id attaches to it).
	Err error
}

// UpdateUnknownError says that an update-with-start got no answer in time: nothing may have been
// done, or the run may have been started and the update admitted, to complete later (no worker
// took it in time). A retry with UpdateID (or the same Idempotency-Key) finds that update rather
// than making a second one.
type UpdateUnknownError struct {
	WorkflowID, UpdateID string
	Err                  error
}

func (e *UpdateUnknownError) Error() string {
	return fmt.Sprintf("update-with-start of workflow %q, update %q: no answer in time: %v", e.WorkflowID, e.UpdateID, e.Err)
}

func (e *UpdateUnknownError) Unwrap() error { return e.Err }

// UpdateWithStart carries out spec, whose Update is set: the update runs on the workflow id's
// running execution, which is started first, as spec's policies allow, when there is none.
// Started says what the start did and, in Started.Update, what the update came to; the error is
// one of Start's when nothing was started or found.
func (s *Service) UpdateWithStart(ctx context.Context, spec StartSpec) (Started, error) {
	if spec.Update == nil {
		return Started{}, &InvalidSpecError{"start", "needs an update"}
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	started, err := s.starter.Start(ctx, spec)
	if upd := started.Update; err == nil && upd != nil && upd.Err != nil && noWorker(ctx, upd.Err) {
		// The run is there; its update did not complete in time.
		upd.Err = fmt.Errorf("update %q of workflow %q: %w", spec.Update.Name, started.WorkflowID, ErrNoWorker)
	}
	return started, err
}

// updateOutcomeOf reads what Temporal answered an update-with-start's update with.
func updateOutcomeOf(call *UpdateCall, answer *UpdateAnswer) *UpdateOutcome {
	if call == nil {
		return nil
	}
	out := &UpdateOutcome{ID: call.ID}
	switch {
	case answer == nil:
		out.Err = fmt.Errorf("update %q: no outcome", call.Name)
	case answer.Err == nil:
		out.Result = PayloadJSON(answer.Result.Payload())
	case workflowFailure(answer.Err):
		out.Rejected = rejected(answer.Err)
	default:
		out.Err = fmt.Errorf("update %q: %w", call.Name, answer.Err)
	}
	return out
}

// rejected is the workflow's failure of an update, err, as the caller's answer.
func rejected(err error) *RejectedError {
	return &RejectedError{Failure: failureOf(temporal.GetDefaultFailureConverter().ErrorToFailure(err)), Err: err}
}

// replayedUpdate reads again the outcome of the update that an earlier request with the same key
// ran, on the run it named: its rejection from the record, anything else from Temporal, which
// keeps a completed update's outcome by its id.
func (s *Starter) replayedUpdate(ctx context.Context, workflowID string, out outcome) *UpdateOutcome {
	if out.UpdateID == "" {
		return nil
	}
	upd := &UpdateOutcome{ID: out.UpdateID}
	if out.UpdateFailure != nil {
		upd.Rejected = &RejectedError{Failure: out.UpdateFailure, Err: fmt.Errorf("update %q rejected: %s", out.UpdateID, out.UpdateFailure.Message)}
		return upd
	}
	var raw converter.RawValue
	err := s.client.GetWorkflowUpdateHandle(client.GetWorkflowUpdateHandleOptions{
		WorkflowID: workflowID, RunID: out.RunID, UpdateID: out.UpdateID,
	}).Get(ctx, &raw)
	switch {
	case err == nil:
		upd.Result = PayloadJSON(raw.Payload())
	case workflowFailure(err):
		upd.Rejected = rejected(err)
	case isNotFound(err) && s.closed(ctx, workflowID, out.RunID):
		// Temporal keeps no outcome of the update on that run: its run closed before the update
		// completed, and nothing more will come of it.
		upd.Err = &ClosedError{WorkflowID: workflowID, RunID: out.RunID}
	case isNotFound(err):
		// Its run runs on, and knows no such update: the first request's update was admitted
		// when its time ran out, and then lost or rejected. What came of it is not known.
		upd.Err = &UpdateUnknownError{WorkflowID: workflowID, UpdateID: out.UpdateID, Err: err}
	default:
		upd.Err = fmt.Errorf("read the outcome of update %q: %w", out.UpdateID, err)
	}
	return upd
}

// closed says whether the run has closed; a run that cannot be read is not known to have.
func (s *Starter) closed(ctx context.Context, workflowID, runID string) bool {
	desc, err := s.client.DescribeWorkflowExecution(ctx, workflowID, runID)
	return err == nil && desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

package executions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// Starter carries out starts.
type Starter struct {
	client    Client
	taskQueue string
	// claimLifetime is how long a request may hold its key's claim while acting: a claim older
	// than that was left open by a request that is gone (see keyed.go).
	claimLifetime time.Duration
}

// NewStarter returns a Starter over c that starts on taskQueue when a spec names none. Every
// Start must end within startTimeout (its context's deadline); a keyed start takes over the claim
// of a request that has not ended in that time, with a margin for clocks that differ.
func NewStarter(c Client, taskQueue string, startTimeout time.Duration) *Starter {
	// A start may outlast its deadline by the close of its record, or by the look-up of an
	// update-with-start's lost answer (sdk.go), never both.
	return &Starter{client: c, taskQueue: taskQueue, claimLifetime: startTimeout + max(closeRecordTimeout, lostAnswerLookup) + 5*time.Second}
}

// Started is what a start did.
type Started struct {
	WorkflowID, RunID string
	// WorkflowType and TaskQueue are those of the start: of the run it began when Created.
	WorkflowType, TaskQueue string
	// Memo is the caller's memo of the run it began when Created.
	Memo map[string]json.RawMessage
	// Created is true when this request started the run (201); false when an existing run
	// answers it (200). A replayed update-with-start keeps it from the request it replays,
	// whose answer said whether a run was started.
	Created bool
	// Replayed is true when the run answers an earlier request with the same Idempotency-Key.
	Replayed bool
	// Update is what the update of an update-with-start came to; nil for any other start.
	Update *UpdateOutcome
}

// AlreadyStartedError says that the workflow id is taken and the policies do not allow another
// run: RunID names the run that holds it.
type AlreadyStartedError struct {
	WorkflowID, RunID string
	Err               error
}

func (e *AlreadyStartedError) Error() string {
	return fmt.Sprintf("start workflow %q: already started as run %q: %v", e.WorkflowID, e.RunID, e.Err)
}

func (e *AlreadyStartedError) Unwrap() error { return e.Err }

// KeyReusedError says that the Idempotency-Key was used before for a different request, by the
// run named; nothing was done for this one.
type KeyReusedError struct {
	WorkflowID, RunID string
}

func (e *KeyReusedError) Error() string {
	return fmt.Sprintf("idempotency key of workflow %q run %q reused for another request", e.WorkflowID, e.RunID)
}

// Start carries out spec. With a key it starts, signals or terminates nothing that an earlier
// request with the same key and caller did (see keyed.go); without one it is one Temporal call.
// The errors are *InvalidSpecError, *AlreadyStartedError, *KeyReusedError, *KeyInUseError, or
// Temporal's own.
func (s *Starter) Start(ctx context.Context, spec StartSpec) (Started, error) {
	if err := spec.check(); err != nil {
		return Started{}, err
	}
	if spec.TaskQueue == "" {
		spec.TaskQueue = s.taskQueue
	}
	st, err := s.start(ctx, spec)
	st.WorkflowType, st.TaskQueue = spec.WorkflowType, spec.TaskQueue
	if st.Created && len(spec.Memo) > 0 {
		st.Memo = spec.Memo
	}
	return st, err
}

// Execution is the run a start began, as the start itself knows it: no Temporal call more. It
// holds what a Describe would add (start time, search attributes) only once the run is described.
func (st Started) Execution() Execution {
	return Execution{source: fromStart, WorkflowID: st.WorkflowID, RunID: st.RunID, WorkflowType: st.WorkflowType,
		TaskQueue: st.TaskQueue, Status: StatusRunning, Memo: st.Memo}
}

func (s *Starter) start(ctx context.Context, spec StartSpec) (Started, error) {
	call := s.call(spec)
	st, err := s.startCall(ctx, spec, call)
	if err != nil && call.Update != nil && noWorker(ctx, err) {
		// No answer in time: the run may have been started and the update admitted, to complete
		// later. The same update id finds it again; a new one would be a second update.
		err = &UpdateUnknownError{WorkflowID: call.Options.ID, UpdateID: call.Update.ID, Err: err}
	}
	return st, err
}

func (s *Starter) startCall(ctx context.Context, spec StartSpec, call StartCall) (Started, error) {
	if spec.Key == "" {
		if call.Update != nil && call.Update.ID == "" {
			call.Update.ID = uuid.NewString()
		}
		return s.startOnce(ctx, call)
	}
	rec, err := newRecord(spec)
	if err != nil {
		return Started{}, err
	}
	if spec.WorkflowID == "" {
		// The key names the execution, and that name is never used for another run.
		call.Options.ID = rec.workflowID()
		call.Options.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	}
	call.Options.Memo[RecordField] = rec
	if call.Update != nil && call.Update.ID == "" {
		// A retry of the request names the same update, which Temporal applies once per run.
		call.Update.ID = rec.requestID()
	}
	return s.startKeyed(ctx, call, rec)
}

// call maps spec onto the SDK's start, with the policies spec asks for.
func (s *Starter) call(spec StartSpec) StartCall {
	opts := client.StartWorkflowOptions{
		ID:        spec.WorkflowID,
		TaskQueue: spec.TaskQueue,
		// A taken id must be reported, not silently answered with the existing run.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDConflictPolicy:                 conflictPolicies[spec.conflict()],
		WorkflowIDReusePolicy:                    reusePolicies[spec.Reuse],
		CronSchedule:                             spec.CronSchedule,
		WorkflowExecutionTimeout:                 spec.ExecutionTimeout,
		WorkflowRunTimeout:                       spec.RunTimeout,
		StartDelay:                               spec.StartDelay,
		Memo:                                     make(map[string]any, len(spec.Memo)+1),
	}
	if opts.ID == "" {
		opts.ID = uuid.NewString()
	}
	for k, v := range spec.Memo {
		opts.Memo[k] = v
	}
	call := StartCall{Options: opts, WorkflowType: spec.WorkflowType, Args: arguments(spec.Input)}
	if spec.Signal != nil {
		call.Signal = &SignalCall{Name: spec.Signal.Name, Arg: argument(spec.Signal.Input)}
	}
	if spec.Update != nil {
		call.Update = &UpdateCall{Name: spec.Update.Name, ID: spec.Update.ID, Arg: argument(spec.Update.Input)}
	}
	return call
}

var conflictPolicies = map[ConflictPolicy]enumspb.WorkflowIdConflictPolicy{
	ConflictFail:              enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	ConflictUseExisting:       enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	ConflictTerminateExisting: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
}

var reusePolicies = map[ReusePolicy]enumspb.WorkflowIdReusePolicy{
	ReuseAllowDuplicate:           enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	ReuseAllowDuplicateFailedOnly: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
	ReuseRejectDuplicate:          enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
}

// startOnce is a start without a key: one call, whose answer says whether it began a run.
func (s *Starter) startOnce(ctx context.Context, call StartCall) (Started, error) {
	answer, err := s.client.Start(ctx, call)
	if err != nil {
		return Started{}, startError(call, err)
	}
	return Started{WorkflowID: call.Options.ID, RunID: answer.RunID, Created: answer.Started,
		Update: updateOutcomeOf(call.Update, answer.Update)}, nil
}

// startError names the start in err, and the run that holds the id when the id is taken.
func startError(call StartCall, err error) error {
	if err == nil {
		return nil
	}
	var taken *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &taken) {
		return &AlreadyStartedError{WorkflowID: call.Options.ID, RunID: taken.RunId, Err: err}
	}
	op := "start"
	switch {
	case call.Signal != nil:
		op = "signal-with-start"
	case call.Update != nil:
		op = "update-with-start"
	}
	return fmt.Errorf("%s workflow %q: %w", op, call.Options.ID, err)
}

// argument turns an optional JSON value into a workflow argument; absent or null is none.
func argument(v []byte) any {
	if isNull(v) {
		return nil
	}
	return json.RawMessage(v)
}

// arguments is argument as a list: empty for none, so that no null payload is sent.
func arguments(v []byte) []any {
	if a := argument(v); a != nil {
		return []any{a}
	}
	return nil
}

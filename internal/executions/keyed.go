package executions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
)

// A start with an Idempotency-Key must never start, signal or terminate anything twice, whether
// its retry comes while the first attempt's run is running, after it closed, after the run
// continued as new or another run followed it, or at the same moment as the first attempt.
// Temporal's own request ids do not cover all of that: in server 1.29 a start whose request id
// matches the current run's is answered with that run, but a signal-with-start reuses the id after
// a closed run and, with TERMINATE_EXISTING, ends a running run without looking at request ids at
// all; and a record kept on a run is lost from sight once another run holds the workflow id.
//
// So each key, for each caller, has a record execution of its own (record.recordID), claimed
// before anything is done and closed with the outcome once it is done:
//
//   - Its start is the claim: REJECT_DUPLICATE makes it succeed once per key. No worker ever runs
//     it (its start delay outlasts its timeout, so no task is ever queued), and it lives in a
//     namespace division of its own, which default lists leave out.
//   - A request that finds the key claimed reads the outcome from the record's termination,
//     waiting briefly while the claim is in progress; if the claimer may still be acting, it
//     answers KeyInUseError, and it does nothing else.
//   - A request that finds a claim older than any request can act (the claimer's gateway died)
//     carries on in its place: it first looks at the workflow id for what the claimer did (the
//     key's record in the current run's memo, or on a signal in its history), and acts only if it
//     finds nothing, under the same Temporal request id (record.requestID), which Temporal
//     recognises for a start and for a signal to a running run.
//
// A key without a workflowId names the execution too (record.workflowID), and that id is never
// used for another run.

// The record executions of keyed starts.
const (
	recordType = "TemporalHttpGateway.IdempotencyKey"
	// recordQueue is polled by no worker: a record never runs.
	recordQueue = "temporal-http-gateway.idempotency-keys"
	// recordDivision puts records in a namespace division of their own (the search attribute
	// TemporalNamespaceDivision, as Temporal's schedules use): lists that do not ask for it, the
	// gateway's and Temporal's UI, do not show them.
	recordDivision = "temporal-http-gateway.idempotency-keys"
	// recordLifetime bounds how long a record whose gateway died before closing it stays open.
	recordLifetime = 24 * time.Hour
	// recordReason is what a closed record is terminated with; its details hold the outcome.
	recordReason = "Idempotency-Key recorded"
	// claimWait is how long a request waits for another one's claim of its key to close before
	// answering that the key is in use.
	claimWait = 2 * time.Second
	// closeRecordTimeout bounds the closing of a record, which happens even if the client has left.
	closeRecordTimeout = 5 * time.Second
)

// outcome is what a keyed start did, as its record keeps it.
type outcome struct {
	// RunID is the run the start answered with: started, signalled, or holding the id (Conflict).
	RunID    string `json:"runId,omitempty"`
	Created  bool   `json:"created,omitempty"`
	Conflict bool   `json:"conflict,omitempty"`
	// Refused says that Temporal refused the start as invalid: nothing was done, and doing the same
	// request again is as safe.
	Refused bool `json:"refused,omitempty"`
	// UpdateID names the update of an update-with-start, whose outcome Temporal keeps by it;
	// UpdateFailure is the workflow's rejection of it, which Temporal does not keep.
	UpdateID      string   `json:"updateId,omitempty"`
	UpdateFailure *Failure `json:"updateFailure,omitempty"`

	// update is the update's outcome, as the request that acted learnt it.
	update *UpdateOutcome
	// closed says, of evidence found on a run, that the run has closed.
	closed bool
}

// keyMemo is the memo of a record execution: the key's record, and the workflow id it is about.
type keyMemo struct {
	record
	WorkflowID string `json:"workflowId"`
}

// KeyInUseError says that another request with the same Idempotency-Key is being carried out: the
// client may retry shortly, and will then be answered with its outcome.
type KeyInUseError struct {
	WorkflowID string
}

func (e *KeyInUseError) Error() string {
	return fmt.Sprintf("idempotency key of workflow %q is in use by a request in progress", e.WorkflowID)
}

func (s *Starter) startKeyed(ctx context.Context, call StartCall, rec record) (Started, error) {
	id := call.Options.ID
	recordRunID, claimed, err := s.claim(ctx, id, rec)
	if err != nil {
		return Started{}, err
	}
	if !claimed {
		st, done, err := s.recordedOutcome(ctx, id, rec, recordRunID)
		if done || err != nil {
			return st, err
		}
		// The claim was left open by a request that can no longer be acting. Carry on in its
		// place, unless it got as far as acting.
		found, ok, err := s.evidence(ctx, id, rec)
		if err != nil {
			// Not knowing what the dead request did is no licence to do it again: the claim
			// stays open for a later retry.
			return Started{}, fmt.Errorf("look for what an earlier request with this key did to workflow %q: %w", id, err)
		}
		if ok && call.Update != nil {
			return s.carryOnUpdate(ctx, call, rec, recordRunID, found)
		}
		if ok {
			s.closeRecord(ctx, rec, recordRunID, found)
			return Started{WorkflowID: id, RunID: found.RunID, Replayed: true}, nil
		}
	}
	out, err := s.act(ctx, call, rec)
	return s.acted(ctx, id, rec, recordRunID, out, err)
}

// carryOnUpdate carries on for a dead request whose update-with-start started the run found. What
// its update came to is not in the evidence. On a running run, the same request again is
// Temporal's to deduplicate: its start's request id and its update's id find what the dead
// request did. On a closed run, sending it again could start another run: the update's outcome is
// read instead, as a replay reads it.
func (s *Starter) carryOnUpdate(ctx context.Context, call StartCall, rec record, recordRunID string, found outcome) (Started, error) {
	id := call.Options.ID
	if found.closed {
		out := found
		out.UpdateID = call.Update.ID
		s.closeRecord(ctx, rec, recordRunID, out)
		return Started{WorkflowID: id, RunID: out.RunID, Created: out.Created, Replayed: true,
			Update: s.replayedUpdate(ctx, id, out)}, nil
	}
	out, err := s.act(ctx, call, rec)
	if err == nil && out.RunID == found.RunID {
		out.Created = found.Created
	}
	st, err := s.acted(ctx, id, rec, recordRunID, out, err)
	st.Replayed = err == nil
	return st, err
}

// acted records what a keyed start did, out, and answers it.
func (s *Starter) acted(ctx context.Context, id string, rec record, recordRunID string, out outcome, err error) (Started, error) {
	if err == nil || out.Conflict || out.Refused {
		s.closeRecord(ctx, rec, recordRunID, out)
	}
	if err != nil {
		return Started{}, err
	}
	return Started{WorkflowID: id, RunID: out.RunID, Created: out.Created, Update: out.update}, nil
}

// claim starts the key's record execution; claimed is false when the key is taken, and runID then
// names the record that holds it.
func (s *Starter) claim(ctx context.Context, workflowID string, rec record) (runID string, claimed bool, err error) {
	call := StartCall{
		WorkflowType: recordType,
		Options: client.StartWorkflowOptions{
			ID:                                       rec.recordID(),
			TaskQueue:                                recordQueue,
			WorkflowExecutionErrorWhenAlreadyStarted: true,
			WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			WorkflowExecutionTimeout:                 recordLifetime,
			// Later than the timeout: the record's first workflow task is never scheduled, so no
			// task waits on a queue no worker polls.
			StartDelay: recordLifetime + time.Hour,
			Memo:       map[string]any{RecordField: keyMemo{rec, workflowID}},
			// TemporalNamespaceDivision is one of the system search attributes a client may set
			// (server 1.29 lists it in predefinedWhiteList). Should a server refuse it, the record
			// is made without it, and shows in lists.
			TypedSearchAttributes: temporal.NewSearchAttributes(
				temporal.NewSearchAttributeKeyKeyword("TemporalNamespaceDivision").ValueSet(recordDivision)),
		},
	}
	answer, err := s.client.Start(ctx, call)
	if serviceerror.ToStatus(err).Code() == codes.InvalidArgument {
		call.Options.TypedSearchAttributes = temporal.SearchAttributes{}
		answer, err = s.client.Start(ctx, call)
	}
	var taken *AlreadyStartedError
	if err = startError(call, err); errors.As(err, &taken) {
		return taken.RunID, false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("claim idempotency key: %w", err)
	}
	return answer.RunID, true, nil
}

// recordedOutcome answers a request whose key another request claimed, from the record: done is false
// only when the claim was left open by a request that can no longer be acting.
func (s *Starter) recordedOutcome(ctx context.Context, workflowID string, rec record, recordRunID string) (Started, bool, error) {
	desc, err := s.client.DescribeWorkflowExecution(ctx, rec.recordID(), recordRunID)
	if err != nil {
		return Started{}, false, fmt.Errorf("read idempotency record of workflow %q: %w", workflowID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	var memo keyMemo
	if p := info.GetMemo().GetFields()[RecordField]; p == nil || json.Unmarshal(p.GetData(), &memo) != nil || memo.Key != rec.Key {
		return Started{}, false, fmt.Errorf("idempotency record of workflow %q holds another key", workflowID)
	}
	running := info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	if memo.Request != rec.Request {
		// The key was used for another request: nothing is done for this one.
		reused := &KeyReusedError{WorkflowID: memo.WorkflowID}
		if out, ok, _ := s.readOutcome(ctx, rec.recordID(), recordRunID, false); ok && !out.Refused {
			reused.RunID = out.RunID
		}
		return Started{}, true, reused
	}
	out, ok, err := s.readOutcome(ctx, rec.recordID(), recordRunID, running)
	switch {
	case err != nil:
		// An outcome that could not be read is not an outcome that is missing: acting now could
		// do again what the record holds.
		return Started{}, true, fmt.Errorf("read idempotency record of workflow %q: %w", workflowID, err)
	case ok && out.Conflict:
		return Started{}, true, &AlreadyStartedError{WorkflowID: workflowID, RunID: out.RunID}
	case ok && !out.Refused:
		return Started{WorkflowID: workflowID, RunID: out.RunID, Replayed: true, Created: out.Created && out.UpdateID != "",
			Update: s.replayedUpdate(ctx, workflowID, out)}, true, nil
	case ok: // refused: nothing was done, and the same request may be tried again
		return Started{}, false, nil
	}
	// Still open. Its claimer acts within its own request's deadline: until that may have passed,
	// it may still be acting, and acting beside it could do twice what it does.
	if age := time.Since(info.GetStartTime().AsTime()); age < s.claimLifetime && running {
		return Started{}, true, &KeyInUseError{WorkflowID: workflowID}
	}
	return Started{}, false, nil
}

// readOutcome reads a closed record's outcome; with wait it first waits up to claimWait for the record
// to close. ok is false when it has not, or closed without one (it timed out); err says that the
// record could not be read.
func (s *Starter) readOutcome(ctx context.Context, id, runID string, wait bool) (outcome, bool, error) {
	request := ctx
	if wait {
		d := claimWait
		if deadline, ok := ctx.Deadline(); ok {
			d = min(d, time.Until(deadline)/2)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	events := s.client.GetWorkflowHistory(ctx, id, runID, wait, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for events.HasNext() {
		event, err := events.Next()
		if wait && ctx.Err() != nil && request.Err() == nil {
			return outcome{}, false, nil // waited claimWait: the record is still open
		}
		if err != nil {
			return outcome{}, false, err
		}
		if out, ok := outcomeIn(event); ok {
			return out, true, nil
		}
	}
	return outcome{}, false, nil
}

func outcomeIn(event *historypb.HistoryEvent) (outcome, bool) {
	a := event.GetWorkflowExecutionTerminatedEventAttributes()
	if a == nil || a.GetReason() != recordReason {
		return outcome{}, false
	}
	for _, p := range a.GetDetails().GetPayloads() {
		var out outcome
		if json.Unmarshal(p.GetData(), &out) == nil && (out.RunID != "" || out.Refused) {
			return out, true
		}
	}
	return outcome{}, false
}

// evidence looks at the workflow id for what a request with this key and request did before its
// gateway died: a run it started carries the key's record in its memo, a signal it delivered
// carries it in its header. Only the run that holds the id now is looked at. err says that it
// could not look; no execution of the id at all is no evidence.
func (s *Starter) evidence(ctx context.Context, workflowID string, rec record) (outcome, bool, error) {
	desc, err := s.client.DescribeWorkflowExecution(ctx, workflowID, "")
	if isNotFound(err) {
		return outcome{}, false, nil
	}
	if err != nil {
		return outcome{}, false, err
	}
	info := desc.GetWorkflowExecutionInfo()
	runID := info.GetExecution().GetRunId()
	if r, ok := recordIn(info.GetMemo().GetFields()); ok && r == rec {
		return outcome{RunID: runID, Created: true, closed: info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}, true, nil
	}
	events := s.client.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for events.HasNext() {
		event, err := events.Next()
		if err != nil {
			return outcome{}, false, err
		}
		header := event.GetWorkflowExecutionSignaledEventAttributes().GetHeader().GetFields()
		if r, ok := recordIn(header); ok && r == rec {
			return outcome{RunID: runID}, true, nil
		}
	}
	return outcome{}, false, nil
}

// closeRecord closes the key's record with the outcome, even when the client has left: the start is
// done. Should it fail, the record stays open, and a retry after the claim's lifetime carries on
// in its place, finding what was done by evidence.
func (s *Starter) closeRecord(ctx context.Context, rec record, recordRunID string, out outcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeRecordTimeout)
	defer cancel()
	_ = s.client.TerminateWorkflow(ctx, rec.recordID(), recordRunID, recordReason, out)
}

// act carries out a keyed start, its key claimed: as asked, under the key's request id, with the
// key's record on the run's memo and on the signal's header. A conflict is an outcome too, which
// a retry answers the same way.
func (s *Starter) act(ctx context.Context, call StartCall, rec record) (outcome, error) {
	call.RequestID = rec.requestID()
	if call.Signal != nil {
		call.Header = rec.header()
	}
	answer, err := s.client.Start(ctx, call)
	if err = startError(call, err); err != nil {
		var taken *AlreadyStartedError
		switch {
		case errors.As(err, &taken):
			return outcome{RunID: taken.RunID, Conflict: true}, err
		case serviceerror.ToStatus(err).Code() == codes.InvalidArgument:
			return outcome{Refused: true}, err
		}
		return outcome{}, err
	}
	created := answer.Started
	if call.Update == nil && call.Signal == nil && answer.Started && answer.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING &&
		answer.Status != enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		// Temporal recognised the request id: an earlier attempt of this request started the run,
		// which has closed since.
		created = false
	}
	out := outcome{RunID: answer.RunID, Created: created}
	if call.Update != nil {
		out.update = updateOutcomeOf(call.Update, answer.Update)
		out.UpdateID = out.update.ID
		if out.update.Rejected != nil {
			out.UpdateFailure = out.update.Rejected.Failure
		}
	}
	return out, nil
}

// header is the signal header of a keyed signal-with-start: the key's record, on the signal it
// delivers, where evidence finds it.
func (r record) header() map[string]*commonpb.Payload {
	p, err := r.payload()
	if err != nil {
		return nil // a record of two hex strings always encodes
	}
	return map[string]*commonpb.Payload{RecordField: p}
}

func isNotFound(err error) bool {
	var notFound *serviceerror.NotFound
	return errors.As(err, &notFound)
}

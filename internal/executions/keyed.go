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
// So each key, for each caller, owns one workflow id of its own, record.workflowID(), and claims
// it before it acts:
//
//   - Without a workflowId, the key's run itself has that id, and no other run ever may
//     (REJECT_DUPLICATE): finding the run is finding what the key did.
//   - With a workflowId, a record execution takes the key's id: it is started, never run by any
//     worker, in a namespace division of its own that default lists leave out, and terminated with
//     the outcome in its details once the start is done. A twin or a retry that fails to claim the
//     id reads the outcome there, waiting briefly while the claim is in progress, and does nothing
//     else. One that finds a claim left unfinished for too long (its gateway died) carries on in its
//     place, under the same Temporal request id, which Temporal recognises for a start and for a
//     signal to a running run.
//
// Every act runs under a request id made of the key and the request (record.requestID).

// The record executions of keyed starts with a workflowId.
const (
	recordType = "TemporalHttpGateway.IdempotencyKey"
	// recordQueue is polled by no worker: a record never runs.
	recordQueue = "temporal-http-gateway.idempotency-keys"
	// recordDivision puts records in a namespace division of their own (the system search
	// attribute TemporalNamespaceDivision, as Temporal's schedules use): lists that do not ask for
	// it, the gateway's and Temporal's UI, do not show them.
	recordDivision = "temporal-http-gateway.idempotency-keys"
	// recordLifetime bounds how long a record whose gateway died before finishing it stays open.
	recordLifetime = 24 * time.Hour
	// recordReason is what a finished record is terminated with; its details hold the outcome.
	recordReason = "Idempotency-Key recorded"
	// claimWait is how long a request waits for another one's claim of its key to finish before
	// carrying on in its place.
	claimWait = 5 * time.Second
)

// outcome is what a keyed start with a workflowId did, as its record keeps it.
type outcome struct {
	// RunID is the run the start answered with: started, signalled, or holding the id (Conflict).
	RunID    string `json:"runId,omitempty"`
	Created  bool   `json:"created,omitempty"`
	Conflict bool   `json:"conflict,omitempty"`
	// Refused says that Temporal refused the start as invalid: nothing was done, and doing it
	// again is as safe.
	Refused bool `json:"refused,omitempty"`
}

// keyMemo is the memo of a record execution: the key's record, and the workflow id it is about.
type keyMemo struct {
	record
	WorkflowID string `json:"workflowId"`
}

func (s *Starter) startKeyed(ctx context.Context, call StartCall, rec record, derived bool) (Started, error) {
	if derived {
		return s.startDerived(ctx, call, rec)
	}
	return s.startRecorded(ctx, call, rec)
}

// startDerived starts under the id the key names: every run that id ever had is this key's.
func (s *Starter) startDerived(ctx context.Context, call StartCall, rec record) (Started, error) {
	id := call.Options.ID
	for round := 1; ; round++ {
		desc, err := s.client.DescribeWorkflowExecution(ctx, id, "")
		switch {
		case err == nil:
			info := desc.GetWorkflowExecutionInfo()
			runID := info.GetExecution().GetRunId()
			r, ok := recordIn(info.GetMemo().GetFields())
			if !ok || r.Key != rec.Key {
				// A run the gateway did not start took the id, by naming it.
				return Started{}, &AlreadyStartedError{WorkflowID: id, RunID: runID}
			}
			if r.Request != rec.Request {
				return Started{}, &KeyReusedError{WorkflowID: id, RunID: runID}
			}
			return Started{WorkflowID: id, RunID: runID, Replayed: true}, nil
		case !isNotFound(err):
			return Started{}, fmt.Errorf("look up idempotency key on workflow %q: %w", id, err)
		}
		// Nothing holds the id yet. Start as though the policy were FAIL: a run that appears
		// meanwhile is a twin of this request's, which the next round finds.
		call.Options.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
		if call.Signal != nil {
			// A signal-with-start always signals a running run; its twin's run takes the signal once,
			// as Temporal recognises the request id.
			call.Options.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
			call.RequestID = rec.requestID()
			call.Header = rec.header()
		}
		answer, err := s.client.Start(ctx, call)
		var taken *AlreadyStartedError
		if err = startError(call, err); errors.As(err, &taken) && round == 1 {
			continue
		}
		if err != nil {
			return Started{}, err
		}
		return Started{WorkflowID: id, RunID: answer.RunID, Created: answer.Started}, nil
	}
}

// startRecorded starts under the caller's workflow id, with the key's record execution claimed
// first.
func (s *Starter) startRecorded(ctx context.Context, call StartCall, rec record) (Started, error) {
	id := call.Options.ID
	recordRunID, claimed, err := s.claim(ctx, id, rec)
	if err != nil {
		return Started{}, err
	}
	if !claimed {
		var done bool
		var st Started
		if st, done, recordRunID, err = s.recorded(ctx, id, rec); done || err != nil {
			return st, err
		}
		// The claim is still open after a while: its request is gone. Carry on in its place.
	}
	call.RequestID = rec.requestID()
	out, err := s.act(ctx, call, rec)
	if err == nil || out.Conflict || out.Refused {
		s.finish(ctx, rec, recordRunID, out)
	}
	if err != nil {
		return Started{}, err
	}
	return Started{WorkflowID: id, RunID: out.RunID, Created: out.Created}, nil
}

// finish closes the key's record with the outcome, even when the client has left: the start is
// done. Should it fail, a retry finds the claim open, waits for it, and then does the start again
// under the same request id, which Temporal recognises.
func (s *Starter) finish(ctx context.Context, rec record, recordRunID string, out outcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimWait)
	defer cancel()
	_ = s.client.TerminateWorkflow(ctx, rec.workflowID(), recordRunID, recordReason, out)
}

// claim starts the key's record execution; claimed is false when the key's id is taken.
func (s *Starter) claim(ctx context.Context, workflowID string, rec record) (runID string, claimed bool, err error) {
	call := StartCall{
		WorkflowType: recordType,
		Options: client.StartWorkflowOptions{
			ID:                                       rec.workflowID(),
			TaskQueue:                                recordQueue,
			WorkflowExecutionErrorWhenAlreadyStarted: true,
			WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			WorkflowExecutionTimeout:                 recordLifetime,
			// Later than the timeout: the record's first workflow task is never scheduled, so no
			// task waits on a queue no worker polls.
			StartDelay: recordLifetime + time.Hour,
			Memo:       map[string]any{RecordField: keyMemo{rec, workflowID}},
			TypedSearchAttributes: temporal.NewSearchAttributes(
				temporal.NewSearchAttributeKeyKeyword("TemporalNamespaceDivision").ValueSet(recordDivision)),
		},
	}
	answer, err := s.client.Start(ctx, call)
	var taken *AlreadyStartedError
	if err = startError(call, err); errors.As(err, &taken) {
		return taken.RunID, false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("claim idempotency key: %w", err)
	}
	return answer.RunID, true, nil
}

// recorded reads what the key's earlier request did from its record, waiting briefly for a claim
// in progress to finish. done is false when the claim stayed open: recordRunID then names it.
func (s *Starter) recorded(ctx context.Context, workflowID string, rec record) (st Started, done bool, recordRunID string, err error) {
	desc, err := s.client.DescribeWorkflowExecution(ctx, rec.workflowID(), "")
	if err != nil {
		return Started{}, false, "", fmt.Errorf("read idempotency record of workflow %q: %w", workflowID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	recordRunID = info.GetExecution().GetRunId()
	r, ok := recordIn(info.GetMemo().GetFields())
	if !ok || r.Key != rec.Key {
		return Started{}, false, "", fmt.Errorf("idempotency record of workflow %q: %w", workflowID,
			errors.New("the key's id holds something else"))
	}
	if r.Request != rec.Request {
		// The key's id holds this key's run or record for another request: nothing is done here.
		reused := &KeyReusedError{WorkflowID: workflowID}
		if info.GetType().GetName() != recordType {
			reused.WorkflowID, reused.RunID = rec.workflowID(), recordRunID
		} else if out, ok := s.outcome(ctx, rec.workflowID(), recordRunID, false); ok {
			reused.RunID = out.RunID
		}
		return Started{}, false, "", reused
	}
	wait := info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	out, ok := s.outcome(ctx, rec.workflowID(), recordRunID, wait)
	switch {
	case !ok || out.Refused:
		return Started{}, false, recordRunID, nil
	case out.Conflict:
		return Started{}, true, "", &AlreadyStartedError{WorkflowID: workflowID, RunID: out.RunID}
	}
	return Started{WorkflowID: workflowID, RunID: out.RunID, Replayed: true}, true, "", nil
}

// outcome reads a finished record's outcome; with wait it first waits up to claimWait for the
// record to finish. ok is false when it has not, or never will (it timed out unfinished).
func (s *Starter) outcome(ctx context.Context, id, runID string, wait bool) (outcome, bool) {
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
		if err != nil {
			return outcome{}, false
		}
		if out, ok := outcomeIn(event); ok {
			return out, true
		}
	}
	return outcome{}, false
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

// act carries out a keyed start with a workflowId, its key claimed: as asked, under the key's
// request id. A conflict is an outcome too, which a retry answers the same way.
func (s *Starter) act(ctx context.Context, call StartCall, rec record) (outcome, error) {
	id := call.Options.ID
	if call.Signal != nil {
		call.Header = rec.header()
		if call.Options.WorkflowIDConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING {
			// Only a request carrying on in place of one whose gateway died can find the key's own
			// run running here; Temporal would end it, whatever its request id.
			if desc, err := s.client.DescribeWorkflowExecution(ctx, id, ""); err == nil {
				info := desc.GetWorkflowExecutionInfo()
				r, ok := recordIn(info.GetMemo().GetFields())
				if ok && r == rec && info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
					return outcome{RunID: info.GetExecution().GetRunId(), Created: true}, nil
				}
			}
		}
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
	if call.Signal == nil && answer.Started && answer.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING &&
		answer.Status != enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		// Temporal recognised the request id: an earlier attempt of this request started the run,
		// which has closed since.
		created = false
	}
	return outcome{RunID: answer.RunID, Created: created}, nil
}

// header is the signal header of a keyed signal-with-start: the key's record, on the signal it
// delivers.
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

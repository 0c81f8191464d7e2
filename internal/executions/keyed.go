package executions

import (
	"context"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// A start with an Idempotency-Key must never start, signal or terminate anything twice, whether
// the retry comes while the first attempt's run is running, after it closed, after another run
// of the same workflow id followed it, or at the same moment as the first attempt. Temporal's own
// request ids do not cover all of that: in server 1.29 a start whose request id matches the
// current run's is answered with that run, but a signal-with-start reuses the id after a closed
// run and, with TERMINATE_EXISTING, terminates a running one without looking at request ids at
// all. So every keyed start first looks for what the key did before (lookup), and acts only when
// the key has done nothing (act):
//
//   - a run the key started carries the key's record in its memo: the current run's is read by
//     Describe, earlier runs' by listing the workflow id's runs (visibility);
//   - a signal the key delivered to a run that was already running carries the record in its
//     header, found in the current run's history;
//   - a run the key terminated (signal-with-start with TERMINATE_EXISTING) carries the record in
//     its termination details, in the same history.
//
// The act then runs under a request id made of the key and the request (record.requestID), so
// that a twin of this request racing it between lookup and act is recognised by Temporal, and a
// start that fails because a run appeared meanwhile looks again once.

// prior is what an earlier request with the same key did: the run it started or signalled, and
// the fingerprint of that request.
type prior struct {
	runID   string
	request string
}

// answer is the answer to a request that the key's earlier request already carried out: that
// request's run, or a refusal when the request differs. Either way nothing is done now.
func (p prior) answer(workflowID string, rec record) (Started, error) {
	if p.request != rec.Request {
		return Started{}, &KeyReusedError{WorkflowID: workflowID, RunID: p.runID}
	}
	return Started{WorkflowID: workflowID, RunID: p.runID, Replayed: true}, nil
}

// current is the run that holds a workflow id, as a lookup found it.
type current struct {
	runID   string
	running bool
	// endedByKey says that the key's own signal-with-start terminated it (TERMINATE_EXISTING) and
	// then did not get to start its run.
	endedByKey bool
}

// terminateReason is what a keyed signal-with-start writes when it ends a running run.
const terminateReason = "terminated by a signal-with-start with idConflictPolicy TERMINATE_EXISTING"

// maxEarlierRunPages bounds how many pages of a workflow id's runs a lookup reads.
const maxEarlierRunPages = 10

func (s *Starter) startKeyed(ctx context.Context, call StartCall, rec record) (Started, error) {
	id := call.Options.ID
	for round := 1; ; round++ {
		p, cur, err := s.lookup(ctx, id, rec)
		if err != nil {
			return Started{}, err
		}
		if p != nil {
			return p.answer(id, rec)
		}
		started, err := s.act(ctx, call, rec, cur)
		var taken *AlreadyStartedError
		if round == 1 && errors.As(err, &taken) && (cur == nil || taken.RunID != cur.runID) {
			// A run took the id between the lookup and the start: perhaps this key's, started by a
			// retry of this very request that arrived at the same time.
			continue
		}
		return started, err
	}
}

// lookup finds what the key did before on the workflow id, and the run that holds the id now.
func (s *Starter) lookup(ctx context.Context, id string, rec record) (*prior, *current, error) {
	desc, err := s.client.DescribeWorkflowExecution(ctx, id, "")
	if isNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up idempotency key on workflow %q: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	cur := &current{
		runID:   info.GetExecution().GetRunId(),
		running: info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
	}
	if r, ok := recordIn(info.GetMemo().GetFields()); ok && r.Key == rec.Key {
		return &prior{cur.runID, r.Request}, cur, nil
	}
	if p, err := s.historyLookup(ctx, id, cur, rec); p != nil || err != nil {
		return p, cur, err
	}
	p, err := s.earlierRun(ctx, id, cur.runID, rec)
	return p, cur, err
}

// historyLookup reads the current run's history for the key's signal, and for its termination.
func (s *Starter) historyLookup(ctx context.Context, id string, cur *current, rec record) (*prior, error) {
	events := s.client.GetWorkflowHistory(ctx, id, cur.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for events.HasNext() {
		event, err := events.Next()
		if err != nil {
			return nil, fmt.Errorf("look up idempotency key in the history of workflow %q run %q: %w", id, cur.runID, err)
		}
		switch {
		case event.GetWorkflowExecutionSignaledEventAttributes() != nil:
			header := event.GetWorkflowExecutionSignaledEventAttributes().GetHeader().GetFields()
			if r, ok := recordIn(header); ok && r.Key == rec.Key {
				return &prior{cur.runID, r.Request}, nil
			}
		case terminatedByKey(event, rec):
			cur.endedByKey = true
		}
	}
	return nil, nil
}

func terminatedByKey(event *historypb.HistoryEvent, rec record) bool {
	for _, p := range event.GetWorkflowExecutionTerminatedEventAttributes().GetDetails().GetPayloads() {
		if r, ok := recordIn(map[string]*commonpb.Payload{RecordField: p}); ok && r.Key == rec.Key {
			return true
		}
	}
	return false
}

// earlierRun finds a run of the workflow id, other than the current one, that the key started.
// It reads Temporal's visibility store, which may lag; a run that another run has followed has
// long been recorded there.
func (s *Starter) earlierRun(ctx context.Context, id, currentRunID string, rec record) (*prior, error) {
	req := &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowId = " + visibilityString(id), PageSize: 100}
	for range maxEarlierRunPages {
		resp, err := s.client.ListWorkflow(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("look up idempotency key among the runs of workflow %q: %w", id, err)
		}
		for _, info := range resp.GetExecutions() {
			runID := info.GetExecution().GetRunId()
			if r, ok := recordIn(info.GetMemo().GetFields()); ok && r.Key == rec.Key && runID != currentRunID {
				return &prior{runID, r.Request}, nil
			}
		}
		if req.NextPageToken = resp.GetNextPageToken(); len(req.NextPageToken) == 0 {
			break
		}
	}
	return nil, nil
}

// act starts, once a lookup has found that the key did nothing yet. cur is the run that holds
// the id, nil when none does.
func (s *Starter) act(ctx context.Context, call StartCall, rec record, cur *current) (Started, error) {
	if call.Signal != nil {
		return s.actSignal(ctx, call, rec, cur)
	}
	if cur == nil {
		// No run holds the id: start as though the policy were FAIL and the id could not be used
		// again, so that a run appearing meanwhile (a retry of this request racing it) makes this
		// start fail and look again, rather than start a second run or end the first.
		return s.startOnce(ctx, call.withOptions(func(o *client.StartWorkflowOptions) {
			o.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
			o.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
		}))
	}
	// Another run holds the id. Start as asked, under this key's and request's request id: should
	// a retry of this request have started a run meanwhile, Temporal answers with that run rather
	// than fail on it, follow it with another, or terminate it.
	call.RequestID = rec.requestID()
	answer, err := s.client.Start(ctx, call)
	if err != nil {
		return Started{}, startError(call, err)
	}
	st := Started{WorkflowID: call.Options.ID, RunID: answer.RunID, Created: answer.Started}
	if answer.Started && answer.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING &&
		answer.Status != enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		// Only a run started before, by this request id, can have closed already.
		st.Created, st.Replayed = false, true
	}
	return st, nil
}

// actSignal is act for a signal-with-start. It always signals-with-start as USE_EXISTING, under
// this key's and request's request id, with the key's record on the signal: Temporal then
// delivers the signal once to a run that this request's twin started meanwhile. For
// TERMINATE_EXISTING the gateway first ends the running run it found, by its run id, so that it
// can never end a run this key started.
func (s *Starter) actSignal(ctx context.Context, call StartCall, rec record, cur *current) (Started, error) {
	id := call.Options.ID
	terminate := call.Options.WorkflowIDConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
	payload, err := rec.payload()
	if err != nil {
		return Started{}, err
	}
	call.RequestID = rec.requestID()
	call.Header = map[string]*commonpb.Payload{RecordField: payload}
	call.Options.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	switch {
	case cur == nil:
		call.Options.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	case terminate && cur.running:
		err := s.client.TerminateWorkflow(ctx, id, cur.runID, terminateReason, rec)
		if err != nil && !isNotFound(err) {
			return Started{}, fmt.Errorf("terminate workflow %q run %q for signal-with-start: %w", id, cur.runID, err)
		}
		fallthrough
	case terminate && cur.endedByKey:
		// The run just ended holds the id, TERMINATED: a new run may follow it, as with Temporal's
		// TERMINATE_EXISTING whatever the reuse policy, while a run that completed meanwhile (a
		// twin of this request's) may not.
		call.Options.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	}
	answer, err := s.client.Start(ctx, call)
	if err != nil {
		return Started{}, startError(call, err)
	}
	if answer.Started {
		return Started{WorkflowID: id, RunID: answer.RunID, Created: true}, nil
	}
	if cur != nil && cur.running && !terminate && answer.RunID == cur.runID {
		return Started{WorkflowID: id, RunID: answer.RunID}, nil // the running run took the signal
	}
	return s.signalled(ctx, id, answer.RunID, rec)
}

// signalled answers a signal-with-start whose signal went to a run the lookup did not see: a
// twin of this request started it (Temporal then delivered the signal once), or someone else did.
func (s *Starter) signalled(ctx context.Context, id, runID string, rec record) (Started, error) {
	desc, err := s.client.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		return Started{}, fmt.Errorf("describe workflow %q run %q after signal-with-start: %w", id, runID, err)
	}
	r, ok := recordIn(desc.GetWorkflowExecutionInfo().GetMemo().GetFields())
	if ok && r.Key == rec.Key && r.Request == rec.Request {
		return Started{WorkflowID: id, RunID: runID, Replayed: true}, nil
	}
	// The signal was delivered to a run this request did not start: that is what happened, even
	// if the run is this key's for another request (a 422 would claim nothing was done).
	return Started{WorkflowID: id, RunID: runID}, nil
}

func isNotFound(err error) bool {
	var notFound *serviceerror.NotFound
	return errors.As(err, &notFound)
}

// visibilityString quotes s as a string literal of the visibility query language, whose parser
// reads a backslash as an escape inside quotes.
func visibilityString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

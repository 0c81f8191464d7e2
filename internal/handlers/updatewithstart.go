package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

// updateWithStart carries out POST /workflows/{workflowId}/updates/{updateName} with start: the
// start is checked as POST /workflows checks one (its fields named under start), then the update
// runs on the running execution of the id, started first when there is none.
func (s *Server) updateWithStart(ctx context.Context, req gen.UpdateWorkflowRequestObject) (gen.UpdateWorkflowResponseObject, error) {
	body, start := req.Body, req.Body.Start
	if body.RunId != nil {
		return nil, validationProblem(gen.FieldError{In: gen.FieldErrorInBody, Field: "runId",
			Message: "cannot be combined with start: an update-with-start updates the running execution"})
	}
	if strings.HasPrefix(req.WorkflowId, executions.KeyIDPrefix) {
		return nil, validationProblem(gen.FieldError{In: gen.FieldErrorInPath, Field: "workflowId",
			Message: "must not begin with " + executions.KeyIDPrefix + ", which names the executions of Idempotency-Keys"})
	}
	startBody := &gen.StartWorkflowRequest{
		WorkflowType: start.WorkflowType, WorkflowId: &req.WorkflowId, TaskQueue: start.TaskQueue, Input: start.Input,
		IdReusePolicy: start.IdReusePolicy, Memo: start.Memo, ExecutionTimeout: start.ExecutionTimeout, RunTimeout: start.RunTimeout,
	}
	if start.IdConflictPolicy != nil {
		startBody.IdConflictPolicy = ptr(gen.IdConflictPolicy(*start.IdConflictPolicy))
	}
	if err := s.checkContract(startBody); err != nil {
		return nil, underStart(err)
	}
	if err := s.checkUpdateName(startBody, req.UpdateName); err != nil {
		return nil, err
	}
	spec, err := startSpec(ctx, startBody, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, underStart(err)
	}
	spec.Update = &executions.Update{Name: req.UpdateName, ID: deref(body.UpdateId), Input: deref(body.Input)}
	if err := requireUpdateWithStartScopes(ctx, spec); err != nil {
		return nil, err
	}
	if err := s.requireTaskQueue(ctx, spec.TaskQueue); err != nil {
		return nil, underStart(err)
	}
	telemetry.SetWorkflowID(ctx, req.WorkflowId)

	started, err := s.core.UpdateWithStart(ctx, spec)
	if err != nil {
		return nil, refusedStart(req.WorkflowId, err)
	}
	upd := started.Update
	if err := upd.Rejected; err != nil {
		return nil, &afterStartError{started.WorkflowID, started.RunID, started.Created, "", err}
	}
	if err := upd.Err; err != nil {
		return nil, &afterStartError{started.WorkflowID, started.RunID, started.Created, upd.ID, err}
	}
	answer := gen.UpdateResponse{UpdateId: upd.ID, Result: upd.Result,
		WorkflowId: &started.WorkflowID, RunId: &started.RunID, RunStarted: &started.Created}
	loc := locationOf(started.WorkflowID, started.RunID)
	if started.Created && !started.Replayed {
		return gen.UpdateWorkflow201JSONResponse{Body: answer, Headers: gen.UpdateWorkflow201ResponseHeaders{Location: loc}}, nil
	}
	headers := gen.UpdateWorkflow200ResponseHeaders{Location: &loc}
	if started.Replayed {
		headers.IdempotentReplayed = ptr(true)
	}
	return gen.UpdateWorkflow200JSONResponse{Body: answer, Headers: headers}, nil
}

// requireUpdateWithStartScopes asks of an update-with-start what a start asks, and `read`: its
// answer may be an execution this request did not start, even with FAIL (an updateId that the
// current run, closed or not, already completed is answered with that update's outcome).
func requireUpdateWithStartScopes(ctx context.Context, spec executions.StartSpec) error {
	if err := requireStartScopes(ctx, spec); err != nil {
		return err
	}
	if p, ok := auth.FromContext(ctx); ok && !p.Allows(auth.ScopeRead) {
		return forbiddenProblem(auth.ScopeRead, "update-with-start may answer with an execution this request did not start")
	}
	return nil
}

// underStart names the body fields of a problem with a start's fields as the fields of start:
// /input/x becomes /start/input/x, and executionTimeout start.executionTimeout.
func underStart(err error) error {
	var p *problemError
	if !errors.As(err, &p) || len(p.fields) == 0 {
		return err
	}
	q := *p
	q.fields = make([]gen.FieldError, len(p.fields))
	for i, f := range p.fields {
		if f.In == gen.FieldErrorInBody {
			if strings.HasPrefix(f.Field, "/") {
				f.Field = "/start" + f.Field
			} else {
				f.Field = "start." + f.Field
			}
		}
		q.fields[i] = f
	}
	if q.status == http.StatusForbidden || q.status == http.StatusUnprocessableEntity || q.status == http.StatusBadRequest {
		return &q
	}
	return err
}

// checkUpdateName refuses an update that a hosted type of the contract does not have, before
// anything starts: Temporal would start the run and only then reject the update, leaving a run
// that nobody asked for.
func (s *Server) checkUpdateName(start *gen.StartWorkflowRequest, name string) error {
	if queue := deref(start.TaskQueue); queue != "" && queue != s.opts.TaskQueue {
		return nil // other workers host other types
	}
	t, ok := s.workflowType(start.WorkflowType)
	if !ok || t.Input == nil { // a type the contract does not describe
		return nil
	}
	names := make([]string, len(t.Updates))
	for i, u := range t.Updates {
		if u.Name == name {
			return nil
		}
		names[i] = u.Name
	}
	msg := "is not an update of workflow type " + t.Name
	if len(names) > 0 {
		msg += "; its updates are " + strings.Join(names, ", ")
	} else {
		msg += ", which has none"
	}
	return validationProblem(gen.FieldError{In: gen.FieldErrorInPath, Field: "updateName", Message: msg})
}

package handlers

import (
	"context"

	"github.com/temporalhttp/gateway/internal/gen"
)

// SignalWorkflow delivers a signal to a running execution.
func (s *Server) SignalWorkflow(ctx context.Context, req gen.SignalWorkflowRequestObject) (gen.SignalWorkflowResponseObject, error) {
	body := deref(req.Body) // the validator makes sure there is one
	if err := s.core.Signal(ctx, req.WorkflowId, deref(body.RunId), req.SignalName, deref(body.Input)); err != nil {
		return nil, err
	}
	return gen.SignalWorkflow202Response{}, nil
}

// QueryWorkflow runs a query handler of the execution and answers its result.
func (s *Server) QueryWorkflow(ctx context.Context, req gen.QueryWorkflowRequestObject) (gen.QueryWorkflowResponseObject, error) {
	body := deref(req.Body)
	result, err := s.core.Query(ctx, req.WorkflowId, deref(body.RunId), req.QueryType, deref(body.Args))
	if err != nil {
		return nil, err
	}
	return gen.QueryWorkflow200JSONResponse{Result: result}, nil
}

// UpdateWorkflow runs an update handler of the execution and answers once it has completed; with
// start, it is an update-with-start.
func (s *Server) UpdateWorkflow(ctx context.Context, req gen.UpdateWorkflowRequestObject) (gen.UpdateWorkflowResponseObject, error) {
	body := deref(req.Body)
	if body.Start != nil {
		return s.updateWithStart(ctx, req)
	}
	if req.Params.IdempotencyKey != nil {
		// Silently ignored, the key would let a retry apply the update a second time.
		return nil, validationProblem(gen.FieldError{In: gen.FieldErrorInHeader, Field: "Idempotency-Key",
			Message: "applies to an update with start; a plain update is made safe to retry by its updateId, which Temporal applies once per run"})
	}
	id, result, err := s.core.Update(ctx, req.WorkflowId, deref(body.RunId), req.UpdateName, deref(body.UpdateId), deref(body.Input))
	if err != nil {
		return nil, err
	}
	return gen.UpdateWorkflow200JSONResponse{Body: gen.UpdateResponse{UpdateId: id, Result: result}}, nil
}

// CancelWorkflow requests cancellation of a running execution.
func (s *Server) CancelWorkflow(ctx context.Context, req gen.CancelWorkflowRequestObject) (gen.CancelWorkflowResponseObject, error) {
	body := deref(req.Body)
	if err := s.core.Cancel(ctx, req.WorkflowId, deref(body.RunId), deref(body.Reason)); err != nil {
		return nil, err
	}
	return gen.CancelWorkflow202Response{}, nil
}

// TerminateWorkflow ends a running execution at once.
func (s *Server) TerminateWorkflow(ctx context.Context, req gen.TerminateWorkflowRequestObject) (gen.TerminateWorkflowResponseObject, error) {
	body := deref(req.Body)
	if err := s.core.Terminate(ctx, req.WorkflowId, deref(body.RunId), deref(body.Reason)); err != nil {
		return nil, err
	}
	return gen.TerminateWorkflow202Response{}, nil
}

// ListWorkflowTypes lists the hosted workflow types.
func (s *Server) ListWorkflowTypes(context.Context, gen.ListWorkflowTypesRequestObject) (gen.ListWorkflowTypesResponseObject, error) {
	list := make([]gen.WorkflowType, len(s.opts.WorkflowTypes))
	for i, t := range s.opts.WorkflowTypes {
		list[i] = t.Schemas
		// Types that a test or an operator lists without the contract's schemas.
		list[i].Name, list[i].Description = t.Name, t.Description
		if list[i].FailureTypes == nil {
			list[i].FailureTypes = []string{}
		}
		for _, hs := range []*[]gen.HandlerSchema{&list[i].Signals, &list[i].Queries, &list[i].Updates} {
			if *hs == nil {
				*hs = []gen.HandlerSchema{}
			}
		}
	}
	return gen.ListWorkflowTypes200JSONResponse{WorkflowTypes: list}, nil
}

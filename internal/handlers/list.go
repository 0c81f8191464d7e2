package handlers

import (
	"context"
	"errors"

	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
)

// defaultPageSize is the page size of a list or a history page when the request names none.
const defaultPageSize = 100

// ListWorkflows lists executions from Temporal's visibility store, filtered by the whitelisted
// parameters only.
func (s *Server) ListWorkflows(ctx context.Context, req gen.ListWorkflowsRequestObject) (gen.ListWorkflowsResponseObject, error) {
	p := req.Params
	filter := executions.ListFilter{WorkflowType: deref(p.WorkflowType), StartedAfter: p.StartedAfter, StartedBefore: p.StartedBefore,
		ScheduleID: deref(p.ScheduleId)}
	if p.Status != nil {
		filter.Status = executions.Status(*p.Status)
	}
	list, next, err := s.core.List(ctx, filter, pageSize(p.PageSize), deref(p.PageToken))
	if err != nil {
		return nil, pageTokenProblem(err)
	}
	page := gen.ListWorkflows200JSONResponse{Executions: make([]gen.Execution, len(list))}
	for i, exec := range list {
		page.Executions[i] = executionBody(exec)
	}
	if next != "" {
		page.NextPageToken = &next
	}
	return page, nil
}

// GetWorkflowHistory answers one page of a run's history events.
func (s *Server) GetWorkflowHistory(ctx context.Context, req gen.GetWorkflowHistoryRequestObject) (gen.GetWorkflowHistoryResponseObject, error) {
	p := req.Params
	events, next, err := s.core.History(ctx, req.WorkflowId, deref(p.RunId), pageSize(p.PageSize), deref(p.PageToken))
	if err != nil {
		return nil, pageTokenProblem(err)
	}
	page := gen.GetWorkflowHistory200JSONResponse{Events: events}
	if next != "" {
		page.NextPageToken = &next
	}
	return page, nil
}

func pageSize(p *int) int32 {
	if p == nil {
		return defaultPageSize
	}
	// The spec bounds it to 1..1000; the conversion cannot overflow.
	return int32(*p)
}

// pageTokenProblem names the page token when it is what the core refused.
func pageTokenProblem(err error) error {
	if errors.Is(err, executions.ErrBadPageToken) {
		return validationProblem(gen.FieldError{In: gen.FieldErrorInQuery, Field: "pageToken",
			Message: "is not a token that this listing handed out; pass nextPageToken back as it is, with the same filters"})
	}
	return err
}

package handlers

import (
	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
)

// executionBody is the contract's form of an execution.
func executionBody(e executions.Execution) gen.Execution {
	out := gen.Execution{
		WorkflowId:    e.WorkflowID,
		RunId:         e.RunID,
		WorkflowType:  e.WorkflowType,
		TaskQueue:     e.TaskQueue,
		Status:        gen.ExecutionStatus(e.Status),
		StartTime:     e.StartTime,
		ExecutionTime: e.ExecutionTime,
		CloseTime:     e.CloseTime,
		Failure:       failureBody(e.Failure),
	}
	if e.HistoryLength > 0 {
		out.HistoryLength = &e.HistoryLength
	}
	if e.Result != nil {
		out.Result = &e.Result
	}
	if len(e.Memo) > 0 {
		out.Memo = &e.Memo
	}
	if len(e.SearchAttributes) > 0 {
		out.SearchAttributes = &e.SearchAttributes
	}
	if e.NextRunID != "" {
		out.NextRunId = &e.NextRunID
	}
	return out
}

// failureBody is the contract's form of a failure.
func failureBody(f *executions.Failure) *gen.Failure {
	if f == nil {
		return nil
	}
	out := &gen.Failure{Message: f.Message, NonRetryable: f.NonRetryable, Cause: failureBody(f.Cause)}
	if f.Type != "" {
		out.Type = &f.Type
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

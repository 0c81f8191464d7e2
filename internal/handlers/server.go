// Package handlers is the gateway's HTTP port: it implements the strict server generated from
// api/openapi.yaml over a narrow Temporal client interface.
package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/api"
	"github.com/temporalhttp/gateway/internal/gen"
)

// Options configure the handlers.
type Options struct {
	Client TemporalClient
	Logger *slog.Logger
	// TaskQueue is where workflows start when a request names none.
	TaskQueue string
	// WorkflowTypes are the types this deployment's workers host; others are refused with 422
	// unless AllowAnyWorkflowType is set.
	WorkflowTypes        []WorkflowType
	AllowAnyWorkflowType bool
	// MaxBodyBytes bounds request bodies (413 above it).
	MaxBodyBytes int64
	// TemporalTimeout bounds each call to Temporal made for a request.
	TemporalTimeout time.Duration
	// RetryAfter is what 503 answers tell clients to wait.
	RetryAfter time.Duration
}

// WorkflowType is a workflow type the workers host.
type WorkflowType struct {
	Name        string
	Description string
}

// Server implements the generated strict server interface.
type Server struct {
	opts  Options
	known map[string]bool
}

var _ gen.StrictServerInterface = (*Server)(nil)

// NewServer returns the handlers for opts.
func NewServer(opts Options) *Server {
	known := make(map[string]bool, len(opts.WorkflowTypes))
	for _, t := range opts.WorkflowTypes {
		known[t.Name] = true
	}
	return &Server{opts: opts, known: known}
}

// executionError names the execution a Temporal call was about, so that its problem can too.
type executionError struct {
	op, workflowID, runID string
	err                   error
}

func (e *executionError) Error() string {
	return fmt.Sprintf("%s workflow %q run %q: %v", e.op, e.workflowID, e.runID, e.err)
}

func (e *executionError) Unwrap() error { return e.err }

// StartWorkflow starts a workflow execution.
func (s *Server) StartWorkflow(ctx context.Context, req gen.StartWorkflowRequestObject) (gen.StartWorkflowResponseObject, error) {
	body := req.Body
	if !s.opts.AllowAnyWorkflowType && !s.known[body.WorkflowType] {
		return nil, newProblem(http.StatusUnprocessableEntity, problemUnknownType, "Unknown workflow type",
			fmt.Sprintf("No worker of this deployment hosts workflow type %q; GET /workflow-types lists those it hosts.",
				body.WorkflowType))
	}
	opts, fields := s.startOptions(body)
	if len(fields) > 0 {
		return nil, validationProblem(fields...)
	}
	var args []any
	if body.Input != nil && string(bytes.TrimSpace(*body.Input)) != "null" {
		args = append(args, *body.Input)
	}

	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	useExisting := body.IdConflictPolicy != nil && *body.IdConflictPolicy == gen.StartWorkflowRequestIdConflictPolicyUSEEXISTING
	run, startErr := s.opts.Client.ExecuteWorkflow(ctx, opts, body.WorkflowType, args...)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(startErr, &started) && useExisting:
		// Started with conflict policy FAIL (see startOptions): the error names the execution that
		// holds the id. It answers the request when it is running; a closed one held the id by
		// the reuse policy, which USE_EXISTING does not override.
		existing, err := s.read(ctx, opts.ID, started.RunId)
		if err != nil {
			return nil, err
		}
		if existing.Status != gen.ExecutionStatusRUNNING {
			return nil, &executionError{"start", opts.ID, started.RunId, startErr}
		}
		return gen.StartWorkflow200JSONResponse{Body: existing, Headers: gen.StartWorkflow200ResponseHeaders{Location: location(existing)}}, nil
	case startErr != nil:
		return nil, &executionError{"start", opts.ID, "", startErr}
	}
	exec, err := s.read(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		return nil, err
	}
	return gen.StartWorkflow201JSONResponse{Body: exec, Headers: gen.StartWorkflow201ResponseHeaders{Location: location(exec)}}, nil
}

// startOptions maps the request onto the SDK's start options, naming every invalid field.
func (s *Server) startOptions(body *gen.StartWorkflowRequest) (client.StartWorkflowOptions, []gen.FieldError) {
	opts := client.StartWorkflowOptions{
		ID:        uuid.NewString(),
		TaskQueue: s.opts.TaskQueue,
		// A duplicate id must be reported, not silently answered with the existing run.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
	var fields []gen.FieldError
	invalid := func(field, msg string) {
		fields = append(fields, gen.FieldError{In: gen.FieldErrorInBody, Field: field, Message: msg})
	}
	if body.WorkflowId != nil {
		opts.ID = *body.WorkflowId
	}
	if body.TaskQueue != nil {
		opts.TaskQueue = *body.TaskQueue
	}
	if body.IdConflictPolicy != nil && *body.IdConflictPolicy == gen.StartWorkflowRequestIdConflictPolicyTERMINATEEXISTING {
		opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
	}
	// USE_EXISTING is carried out by StartWorkflow on top of FAIL: the SDK does not tell whether
	// a start with USE_EXISTING began a new execution, and the answer (201 or 200) depends on it.
	if body.IdReusePolicy != nil {
		opts.WorkflowIDReusePolicy = map[gen.StartWorkflowRequestIdReusePolicy]enumspb.WorkflowIdReusePolicy{
			gen.StartWorkflowRequestIdReusePolicyALLOWDUPLICATE:           enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			gen.StartWorkflowRequestIdReusePolicyALLOWDUPLICATEFAILEDONLY: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
			gen.StartWorkflowRequestIdReusePolicyREJECTDUPLICATE:          enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		}[*body.IdReusePolicy]
	}
	if body.CronSchedule != nil {
		if _, err := cron.ParseStandard(*body.CronSchedule); err != nil {
			invalid("cronSchedule", "is not a valid cron schedule (five fields, or a descriptor such as @every 1m)")
		} else {
			opts.CronSchedule = *body.CronSchedule
		}
		if body.StartDelay != nil {
			invalid("startDelay", "cannot be combined with cronSchedule")
		}
	}
	for _, d := range []struct {
		field string
		value *string
		dest  *time.Duration
	}{
		{"executionTimeout", body.ExecutionTimeout, &opts.WorkflowExecutionTimeout},
		{"runTimeout", body.RunTimeout, &opts.WorkflowRunTimeout},
		{"startDelay", body.StartDelay, &opts.StartDelay},
	} {
		if d.value == nil {
			continue
		}
		v, err := time.ParseDuration(*d.value)
		if err != nil || v <= 0 {
			invalid(d.field, "must be a positive duration such as 90s or 1h30m")
			continue
		}
		*d.dest = v
	}
	if body.Memo != nil {
		opts.Memo = make(map[string]any, len(*body.Memo))
		for k, v := range *body.Memo {
			opts.Memo[k] = v
		}
	}
	return opts, fields
}

// GetWorkflow reads an execution without waiting for it.
func (s *Server) GetWorkflow(ctx context.Context, req gen.GetWorkflowRequestObject) (gen.GetWorkflowResponseObject, error) {
	var runID string
	if req.Params.RunId != nil {
		runID = *req.Params.RunId
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	exec, err := s.read(ctx, req.WorkflowId, runID)
	if err != nil {
		return nil, err
	}
	return gen.GetWorkflow200JSONResponse(exec), nil
}

// read describes an execution and, when it is closed, adds its close event: the result or the
// failure. It never waits for a running execution.
func (s *Server) read(ctx context.Context, workflowID, runID string) (gen.Execution, error) {
	resp, err := s.opts.Client.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return gen.Execution{}, &executionError{"describe", workflowID, runID, err}
	}
	exec, err := executionFromDescribe(resp)
	if err != nil || exec.Status == gen.ExecutionStatusRUNNING {
		return exec, err
	}
	events := s.opts.Client.GetWorkflowHistory(ctx, workflowID, exec.RunId, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for events.HasNext() {
		event, err := events.Next()
		if err != nil {
			return gen.Execution{}, &executionError{"read close event of", workflowID, exec.RunId, err}
		}
		if closeEventTypes[event.GetEventType()] {
			withCloseEvent(&exec, event)
			return exec, nil
		}
	}
	return gen.Execution{}, &executionError{"read close event of", workflowID, exec.RunId, errors.New("closed run has no close event")}
}

var closeEventTypes = map[enumspb.EventType]bool{
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:        true,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:           true,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:        true,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:         true,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:       true,
	enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: true,
}

func location(exec gen.Execution) string {
	return "/workflows/" + url.PathEscape(exec.WorkflowId) + "?runId=" + url.QueryEscape(exec.RunId)
}

// GetHealth answers while the process is alive.
func (s *Server) GetHealth(context.Context, gen.GetHealthRequestObject) (gen.GetHealthResponseObject, error) {
	return gen.GetHealth200JSONResponse{Status: "ok"}, nil
}

// GetReadiness answers whether Temporal is reachable.
func (s *Server) GetReadiness(ctx context.Context, _ gen.GetReadinessRequestObject) (gen.GetReadinessResponseObject, error) {
	ctx, cancel := context.WithTimeout(ctx, min(s.opts.TemporalTimeout, 2*time.Second))
	defer cancel()
	if _, err := s.opts.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		s.opts.Logger.WarnContext(ctx, "temporal health check failed", "error", err)
		return nil, unavailableProblem()
	}
	return gen.GetReadiness200JSONResponse{Status: "ok"}, nil
}

// GetOpenAPISpec serves the contract as written.
func (s *Server) GetOpenAPISpec(context.Context, gen.GetOpenAPISpecRequestObject) (gen.GetOpenAPISpecResponseObject, error) {
	return gen.GetOpenAPISpec200ApplicationyamlResponse{Body: bytes.NewReader(api.OpenAPI), ContentLength: int64(len(api.OpenAPI))}, nil
}

package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

// startSpec decodes a start request into the core's start specification, once, naming every
// invalid field. The caller is the request's principal (none when the gateway runs open).
func startSpec(ctx context.Context, body *gen.StartWorkflowRequest, key string) (executions.StartSpec, error) {
	spec := executions.StartSpec{
		WorkflowType: body.WorkflowType,
		WorkflowID:   deref(body.WorkflowId),
		TaskQueue:    deref(body.TaskQueue),
		CronSchedule: deref(body.CronSchedule),
		Key:          key,
	}
	if p, ok := auth.FromContext(ctx); ok {
		spec.Caller = p.Name
	}
	if body.Input != nil {
		spec.Input = *body.Input
	}
	if body.IdConflictPolicy != nil {
		spec.Conflict = conflictPolicies[*body.IdConflictPolicy]
	}
	if body.IdReusePolicy != nil {
		spec.Reuse = reusePolicies[*body.IdReusePolicy]
	}
	if body.Signal != nil {
		spec.Signal = &executions.Signal{Name: body.Signal.Name}
		if body.Signal.Input != nil {
			spec.Signal.Input = *body.Signal.Input
		}
	}
	var fields []gen.FieldError
	invalid := func(field, msg string) {
		fields = append(fields, gen.FieldError{In: gen.FieldErrorInBody, Field: field, Message: msg})
	}
	if strings.HasPrefix(spec.WorkflowID, executions.KeyIDPrefix) {
		// Taking such an id would take it from the Idempotency-Key that names it.
		invalid("workflowId", "must not begin with "+executions.KeyIDPrefix+", which names the executions of Idempotency-Keys")
	}
	if spec.CronSchedule != "" {
		if _, err := cron.ParseStandard(spec.CronSchedule); err != nil {
			invalid("cronSchedule", "is not a valid cron schedule (five fields, or a descriptor such as @every 1m)")
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
		{"executionTimeout", body.ExecutionTimeout, &spec.ExecutionTimeout},
		{"runTimeout", body.RunTimeout, &spec.RunTimeout},
		{"startDelay", body.StartDelay, &spec.StartDelay},
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
		for k := range *body.Memo {
			if k == executions.RecordField {
				invalid("memo."+k, "is reserved for the gateway")
			}
		}
		spec.Memo = *body.Memo
	}
	if len(fields) > 0 {
		return executions.StartSpec{}, validationProblem(fields...)
	}
	return spec, nil
}

// conflictPolicies and reusePolicies are the one place where the contract's policy names become
// the core's.
var conflictPolicies = map[gen.IdConflictPolicy]executions.ConflictPolicy{
	gen.IdConflictPolicyFAIL:              executions.ConflictFail,
	gen.IdConflictPolicyUSEEXISTING:       executions.ConflictUseExisting,
	gen.IdConflictPolicyTERMINATEEXISTING: executions.ConflictTerminateExisting,
}

var reusePolicies = map[gen.IdReusePolicy]executions.ReusePolicy{
	gen.IdReusePolicyALLOWDUPLICATE:           executions.ReuseAllowDuplicate,
	gen.IdReusePolicyALLOWDUPLICATEFAILEDONLY: executions.ReuseAllowDuplicateFailedOnly,
	gen.IdReusePolicyREJECTDUPLICATE:          executions.ReuseRejectDuplicate,
}

// requireStartScopes asks of a start what its body adds to the route's `start` scope. Ending a
// running execution (TERMINATE_EXISTING) is an administrator's act, as POST .../terminate is. An
// answer that may be an execution this request did not start (USE_EXISTING, signal-with-start)
// shows that execution, its result included, so it is a read. A cron start goes on starting runs
// for good, as a schedule does, so it needs `schedule`. With no authenticator (the gateway
// runs open) there is no principal and nothing to check.
func requireStartScopes(ctx context.Context, spec executions.StartSpec) error {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil
	}
	switch {
	case spec.Conflict == executions.ConflictTerminateExisting && !p.Allows(auth.ScopeAdmin):
		return forbiddenProblem(auth.ScopeAdmin, "idConflictPolicy TERMINATE_EXISTING ends a running execution")
	case spec.Conflict == executions.ConflictUseExisting && !p.Allows(auth.ScopeRead):
		return forbiddenProblem(auth.ScopeRead, "idConflictPolicy USE_EXISTING may answer with an execution this request did not start")
	case spec.Signal != nil && !p.Allows(auth.ScopeRead):
		return forbiddenProblem(auth.ScopeRead, "signal-with-start may answer with an execution this request did not start")
	case spec.CronSchedule != "" && !p.Allows(auth.ScopeSchedule):
		return forbiddenProblem(auth.ScopeSchedule, "cronSchedule goes on starting runs long after this request, as a schedule does")
	}
	return nil
}

// requireTaskQueue keeps starts on the task queue of this deployment's workers, and on those the
// operator allowed: a start on another queue would hand its input to whatever worker polls that
// queue. A principal with `admin` may start anywhere.
func (s *Server) requireTaskQueue(ctx context.Context, queue string) error {
	if queue == "" || queue == s.opts.TaskQueue || s.opts.AnyTaskQueue || slices.Contains(s.opts.TaskQueues, queue) {
		return nil
	}
	if p, ok := auth.FromContext(ctx); ok && p.Allows(auth.ScopeAdmin) {
		return nil
	}
	// The names of the queues the operator allows are not the caller's business.
	p := newProblem(http.StatusForbidden, problemTaskQueue, "Task queue not allowed",
		"This gateway starts workflows only on the task queues its operator allows (GATEWAY_TASK_QUEUES); "+
			"another needs scope \"admin\". Leave taskQueue out to start where this deployment's workers poll.")
	p.fields = []gen.FieldError{{In: gen.FieldErrorInBody, Field: "taskQueue", Message: "is not a task queue this gateway starts on"}}
	return p
}

// StartWorkflow starts a workflow execution.
func (s *Server) StartWorkflow(ctx context.Context, req gen.StartWorkflowRequestObject) (gen.StartWorkflowResponseObject, error) {
	return s.start(ctx, req, false)
}

// start carries out a start. A typed one (onlyOwnType) is answered by an execution of its own
// type only: an existing run of another type that its USE_EXISTING finds is refused with 409, at
// once, rather than waited for and answered as if it were of the type its path names.
func (s *Server) start(ctx context.Context, req gen.StartWorkflowRequestObject, onlyOwnType bool) (gen.StartWorkflowResponseObject, error) {
	body := req.Body
	if err := s.checkContract(body); err != nil {
		return nil, err
	}
	spec, err := startSpec(ctx, body, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	spec.OnlyOwnType = onlyOwnType
	if err := requireStartScopes(ctx, spec); err != nil {
		return nil, err
	}
	if err := s.requireTaskQueue(ctx, spec.TaskQueue); err != nil {
		return nil, err
	}
	// The wait's place is taken before the start, so that a refusal means nothing was started.
	wait, slot, err := s.holdWait(ctx, req.Params.Wait)
	if err != nil {
		return nil, err
	}
	defer slot.release()
	if spec.WorkflowID != "" {
		telemetry.SetWorkflowID(ctx, spec.WorkflowID)
	}

	started, exec, err := s.core.StartAndAwait(ctx, spec, wait)
	if err != nil && started.WorkflowID == "" {
		return nil, refusedStart(spec.WorkflowID, err)
	}
	// The id may have been generated or derived from the key just now: record it for the log.
	telemetry.SetWorkflowID(ctx, started.WorkflowID)
	if err != nil {
		return nil, err // an existing run answered, and reading it failed: nothing was started
	}
	if onlyOwnType && exec.WorkflowType != spec.WorkflowType {
		p := newProblem(http.StatusConflict, problemAlreadyStarted, "Workflow already started",
			fmt.Sprintf("An execution of another workflow type is running under this workflow id; no %s was started.", spec.WorkflowType))
		p.workflowID, p.runID = exec.WorkflowID, exec.RunID
		return nil, p
	}
	if started.Created && wait == 0 && prefersMinimal(req.Params.Prefer) {
		return startedMinimal{location: locationOf(started.WorkflowID, started.RunID)}, nil
	}
	return startResponse(exec, started), nil
}

// startedMinimal answers a new execution with 201 and no body, for a client that preferred
// return=minimal (RFC 7240): Location names the run.
type startedMinimal struct{ location string }

func (r startedMinimal) VisitStartWorkflowResponse(w http.ResponseWriter) error {
	w.Header().Set("Location", r.location)
	w.Header().Set("Preference-Applied", "return=minimal")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// prefersMinimal says whether an RFC 7240 Prefer header asks for return=minimal. Of several
// return preferences the first counts (RFC 7240, section 2); other preferences are ignored.
func prefersMinimal(prefer *string) bool {
	if prefer == nil {
		return false
	}
	for _, p := range strings.Split(*prefer, ",") {
		pref, _, _ := strings.Cut(p, ";") // parameters of a preference do not matter here
		name, value, _ := strings.Cut(pref, "=")
		if strings.EqualFold(strings.TrimSpace(name), "return") {
			return strings.EqualFold(strings.Trim(strings.TrimSpace(value), `"`), "minimal")
		}
	}
	return false
}

// startResponse is the answer to a start: 201 when it began the execution, 200 when an existing
// one answers it, marked as a replay when an earlier request with the same key started it.
func startResponse(exec executions.Execution, started executions.Started) gen.StartWorkflowResponseObject {
	if started.Created {
		return gen.StartWorkflow201JSONResponse{Body: executionBody(exec), Headers: gen.StartWorkflow201ResponseHeaders{Location: location(exec)}}
	}
	headers := gen.StartWorkflow200ResponseHeaders{Location: location(exec)}
	if started.Replayed {
		headers.IdempotentReplayed = ptr(true)
	}
	return gen.StartWorkflow200JSONResponse{Body: executionBody(exec), Headers: headers}
}

package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"

	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
)

// Problem types. They are URNs rather than URLs so that no host is implied; each names one kind
// of problem a client may want to tell apart.
const (
	problemValidation        = "urn:temporal-http:problem:validation"
	problemMalformedJSON     = "urn:temporal-http:problem:malformed-json"
	problemNotFound          = "urn:temporal-http:problem:not-found"
	problemWorkflowNotFound  = "urn:temporal-http:problem:workflow-not-found"
	problemMethodNotAllowed  = "urn:temporal-http:problem:method-not-allowed"
	problemAlreadyStarted    = "urn:temporal-http:problem:workflow-already-started"
	problemTooLarge          = "urn:temporal-http:problem:payload-too-large"
	problemMediaType         = "urn:temporal-http:problem:unsupported-media-type"
	problemUnknownType       = "urn:temporal-http:problem:unknown-workflow-type"
	problemInvalidInput      = "urn:temporal-http:problem:invalid-input"
	problemUnavailable       = "urn:temporal-http:problem:temporal-unavailable"
	problemInternal          = "urn:temporal-http:problem:internal"
	problemClosed            = "urn:temporal-http:problem:workflow-closed"
	problemRejected          = "urn:temporal-http:problem:rejected-by-workflow"
	problemNoWorker          = "urn:temporal-http:problem:no-worker"
	problemIdempotencyReused = "urn:temporal-http:problem:idempotency-key-reused"
	problemRefused           = "urn:temporal-http:problem:refused-by-temporal"
	problemRequestTimeout    = "urn:temporal-http:problem:request-timeout"
	problemUnauthorized      = "urn:temporal-http:problem:unauthorized"
	problemForbidden         = "urn:temporal-http:problem:forbidden"
	problemRateLimited       = "urn:temporal-http:problem:rate-limited"
	problemTaskQueue         = "urn:temporal-http:problem:task-queue-not-allowed"
	problemKeyInUse          = "urn:temporal-http:problem:idempotency-key-in-use"
	problemMisdirected       = "urn:temporal-http:problem:misdirected-request"
	problemTooManyWaits      = "urn:temporal-http:problem:too-many-waits"
	problemWaitsExhausted    = "urn:temporal-http:problem:waits-exhausted"
	problemNotReady          = "urn:temporal-http:problem:workflow-not-ready"
	problemScheduleNotFound  = "urn:temporal-http:problem:schedule-not-found"
	problemScheduleExists    = "urn:temporal-http:problem:schedule-exists"
	problemScheduleChanged   = "urn:temporal-http:problem:schedule-changed"
	problemIfMatchRequired   = "urn:temporal-http:problem:if-match-required"
	problemUnknownTimeZone   = "urn:temporal-http:problem:unknown-time-zone"
)

// problemError is an outcome that the gateway answers with a problem: a handler returns it as an
// error and the one writer below turns it into the response.
type problemError struct {
	status int
	typ    string
	title  string
	detail string
	fields []gen.FieldError
	// workflowID and runID name the execution the problem is about, when there is one.
	workflowID, runID string
	// failure is what the workflow answered, when it rejected a query or an update.
	failure *gen.Failure
	// runStarted says, for an update-with-start that failed after its start, whether it started
	// the run named.
	runStarted *bool
	// updateID names the update of an update-with-start whose outcome is not known: a retry with
	// it attaches to that update.
	updateID string
	// retryAfter is when the client may try again, in seconds; 0 means the writer's default
	// (given for 503 only).
	retryAfter int
	// location names the existing resource a conflict is with, for its Location header.
	location string
}

func (p *problemError) Error() string { return p.title + ": " + p.detail }

func newProblem(status int, typ, title, detail string) *problemError {
	return &problemError{status: status, typ: typ, title: title, detail: detail}
}

func validationProblem(fields ...gen.FieldError) *problemError {
	p := newProblem(http.StatusBadRequest, problemValidation, "Invalid request",
		"One or more fields are invalid; see errors.")
	p.fields = fields
	return p
}

// problemFor maps any error from a handler, the router or Temporal to the problem the client
// sees. It is the only place where errors become HTTP statuses. The second result says whether
// the error is the gateway's own fault or its operator's, which is logged with its full text.
func problemFor(err error) (*problemError, bool) {
	p, logIt := classify(err)
	var exec *executions.Error
	if errors.As(err, &exec) && (p.status == http.StatusNotFound || p.status == http.StatusConflict) {
		// What the problem names already, from the error itself, is the more precise.
		if p.workflowID == "" {
			p.workflowID = exec.WorkflowID
		}
		if p.runID == "" {
			p.runID = exec.RunID
		}
	}
	var unknown *executions.UpdateUnknownError
	if errors.As(err, &unknown) {
		p = newProblem(http.StatusGatewayTimeout, problemNoWorker, "No worker answered",
			"The update-with-start got no answer in time: nothing may have been done, or the execution may have been started "+
				"and the update admitted, to complete once a worker takes it. Retry the same request with the same Idempotency-Key, "+
				"or without a key with updateId, to attach to that update rather than make a second one.")
		p.workflowID, p.updateID = unknown.WorkflowID, unknown.UpdateID
	}
	var after *afterStartError
	if errors.As(err, &after) {
		p.workflowID, p.runID, p.runStarted, p.updateID = after.workflowID, after.runID, &after.runStarted, after.updateID
	}
	return p, logIt
}

// afterStartError is what befell an update-with-start's update after the start had started or
// found the run named: the problem says so.
type afterStartError struct {
	workflowID, runID string
	runStarted        bool
	updateID          string
	err               error
}

func (e *afterStartError) Error() string {
	return fmt.Sprintf("update-with-start of workflow %q run %q (started: %t): %v", e.workflowID, e.runID, e.runStarted, e.err)
}

func (e *afterStartError) Unwrap() error { return e.err }

func classify(err error) (*problemError, bool) {
	var p *problemError
	if errors.As(err, &p) {
		return p, false
	}
	if p := coreProblem(err); p != nil {
		return p, false
	}
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return newProblem(http.StatusRequestEntityTooLarge, problemTooLarge, "Payload too large",
			"The request body is larger than "+strconv.FormatInt(maxBytes.Limit, 10)+" bytes."), false
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The connection's read deadline (GATEWAY_READ_TIMEOUT) passed while the body was read.
		return newProblem(http.StatusRequestTimeout, problemRequestTimeout, "Request timeout",
			"The request body did not arrive within the gateway's read timeout."), false
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		p := newProblem(http.StatusConflict, problemAlreadyStarted, "Workflow already started",
			"An execution with this workflow id exists and the id policy does not allow another.")
		p.runID = started.RunId
		return p, false
	}
	var namespace *serviceerror.NamespaceNotFound
	if errors.As(err, &namespace) {
		return unavailableProblem(), true // a misconfigured gateway: the operator must see it
	}
	switch serviceerror.ToStatus(err).Code() {
	case codes.InvalidArgument:
		// Temporal's own checks that the contract cannot express (an id longer than its limit in
		// bytes, a reserved task queue name, a payload over its limit, a time it cannot store):
		// the request is at fault. Temporal's text goes to the log only.
		return newProblem(http.StatusBadRequest, problemRefused, "Refused by Temporal",
			"Temporal refused the request as invalid, for example an id over its length limit, a reserved task queue name or an oversized payload."), false
	case codes.NotFound:
		return newProblem(http.StatusNotFound, problemWorkflowNotFound, "Workflow execution not found",
			"No workflow execution has this id (and run id, when given)."), false
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Canceled, codes.Aborted:
		return unavailableProblem(), false
	case codes.FailedPrecondition:
		// The execution cannot take this yet (Temporal's WorkflowNotReady: a query before the
		// run's first workflow task, as under a start delay; an update while its workflow task
		// fails): its state, not the gateway, and it may pass.
		return newProblem(http.StatusServiceUnavailable, problemNotReady, "Workflow not ready",
			"The execution cannot take this request in its present state, for example before its first workflow task; try again after Retry-After seconds."), false
	}
	return newProblem(http.StatusInternalServerError, problemInternal, "Internal error",
		"The gateway could not complete the request; the request id locates the details in its log."), true
}

// refusedStart names the execution that a start Temporal refused was about; classify answers
// whatever the refusal was.
func refusedStart(workflowID string, err error) error {
	return &executions.Error{Op: "start", WorkflowID: workflowID, Err: err}
}

// coreProblem is the problem of what the executions core refused, nil for any other error.
func coreProblem(err error) *problemError {
	var (
		invalid  *executions.InvalidSpecError
		taken    *executions.AlreadyStartedError
		reused   *executions.KeyReusedError
		inUse    *executions.KeyInUseError
		closed   *executions.ClosedError
		rejected *executions.RejectedError
	)
	switch {
	case errors.As(err, &closed):
		p := newProblem(http.StatusConflict, problemClosed, "Workflow execution closed",
			"The execution has already closed; only a running execution accepts this.")
		p.workflowID, p.runID = closed.WorkflowID, closed.RunID
		return p
	case errors.As(err, &rejected) && rejected.Query:
		return newProblem(http.StatusUnprocessableEntity, problemRejected, "Rejected by the workflow",
			"The workflow rejected the query, or has no query handler of this name.")
	case errors.As(err, &rejected):
		p := newProblem(http.StatusUnprocessableEntity, problemRejected, "Rejected by the workflow",
			"The workflow rejected the update, or its handler failed; failure says why.")
		p.failure = failureBody(rejected.Failure)
		return p
	case errors.Is(err, executions.ErrNoWorker):
		return newProblem(http.StatusGatewayTimeout, problemNoWorker, "No worker answered",
			"No worker answered in time: none may be running for the task queue, or it is overloaded.")
	case errors.As(err, &invalid):
		return validationProblem(gen.FieldError{In: gen.FieldErrorInBody, Field: invalid.Field, Message: invalid.Message})
	case errors.As(err, &taken):
		p := newProblem(http.StatusConflict, problemAlreadyStarted, "Workflow already started",
			"An execution with this workflow id exists and the id policy does not allow another.")
		p.workflowID, p.runID = taken.WorkflowID, taken.RunID
		return p
	case errors.As(err, &reused):
		p := newProblem(http.StatusUnprocessableEntity, problemIdempotencyReused, "Idempotency key reused",
			"This Idempotency-Key was used for a different request, which the execution named answers; nothing was done for this one. Use a new key for a new request.")
		p.workflowID, p.runID = reused.WorkflowID, reused.RunID
		return p
	case errors.As(err, &inUse):
		p := newProblem(http.StatusConflict, problemKeyInUse, "Idempotency key in use",
			"Another request with this Idempotency-Key is being carried out; retry after Retry-After seconds to get its outcome.")
		p.workflowID, p.retryAfter = inUse.WorkflowID, 1
		return p
	}
	return nil
}

func malformedJSON() *problemError {
	return malformedJSONBecause("The request body is not valid JSON.")
}

func malformedJSONBecause(detail string) *problemError {
	return newProblem(http.StatusBadRequest, problemMalformedJSON, "Malformed JSON", detail)
}

func unsupportedMediaType() *problemError {
	return newProblem(http.StatusUnsupportedMediaType, problemMediaType, "Unsupported media type",
		"The request body must be application/json; send {} when there is nothing to say.")
}

func unavailableProblem() *problemError {
	return newProblem(http.StatusServiceUnavailable, problemUnavailable, "Temporal unavailable",
		"Temporal cannot be reached right now; try again after Retry-After seconds.")
}

// problemWriter writes every error response of the gateway.
type problemWriter struct {
	logger     *slog.Logger
	retryAfter int // seconds
}

// newProblemWriter is the problem writer of the router and handlers that opts configure.
func newProblemWriter(opts Options) problemWriter {
	return problemWriter{logger: opts.Logger, retryAfter: max(1, int(opts.RetryAfter/time.Second))}
}

func (pw problemWriter) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, internal := problemFor(err)
	ctx := r.Context()
	switch {
	case p.typ == problemRefused:
		// The caller's mistake, yet Temporal's reason is worth an operator's look.
		pw.logger.WarnContext(ctx, "temporal refused a request", "error", err, "request_id", requestID(ctx))
	case internal:
		pw.logger.ErrorContext(ctx, "request failed", "error", err, "request_id", requestID(ctx))
	case p.status >= 500:
		if errors.Is(ctx.Err(), context.Canceled) {
			return // the client left; nobody reads the answer
		}
		pw.logger.WarnContext(ctx, "request failed", "status", p.status, "error", err, "request_id", requestID(ctx))
	}
	pw.write(w, r, p)
}

func (pw problemWriter) write(w http.ResponseWriter, r *http.Request, p *problemError) {
	body := gen.Problem{Type: p.typ, Title: p.title, Status: p.status}
	if p.detail != "" {
		body.Detail = &p.detail
	}
	if len(p.fields) > 0 {
		body.Errors = &p.fields
	}
	if p.workflowID != "" {
		body.WorkflowId = &p.workflowID
	}
	if p.runID != "" {
		body.RunId = &p.runID
	}
	body.Failure = p.failure
	body.RunStarted = p.runStarted
	if p.updateID != "" {
		body.UpdateId = &p.updateID
	}
	if id := requestID(r.Context()); id != "" {
		body.RequestId = &id
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.location != "" {
		h.Set("Location", p.location)
	}
	switch {
	case p.retryAfter > 0:
		h.Set("Retry-After", strconv.Itoa(p.retryAfter))
	case p.status == http.StatusServiceUnavailable:
		h.Set("Retry-After", strconv.Itoa(pw.retryAfter))
	}
	w.WriteHeader(p.status)
	_ = json.NewEncoder(w).Encode(body)
}

// Package handlers is the gateway's HTTP port: it implements the strict server generated from
// api/openapi.yaml over a narrow Temporal client interface.
package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/api"
	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

// Options configure the handlers.
type Options struct {
	Client TemporalClient
	Logger *slog.Logger
	// Namespace is the client's Temporal namespace, which raw service calls must name.
	Namespace string
	// TaskQueue is where workflows start when a request names none: the queue of this
	// deployment's workers.
	TaskQueue string
	// TaskQueues are the other task queues a start may name; AnyTaskQueue allows every queue.
	// Principals with scope admin may name any queue regardless.
	TaskQueues   []string
	AnyTaskQueue bool
	// WorkflowTypes are the types this deployment's workers host on TaskQueue, with their input
	// schemas. A start on TaskQueue of another type is refused with 422 unless
	// AllowAnyWorkflowType is set, and one whose input does not fit its type's schema always is.
	// Starts on other task queues are held to neither: other workers poll those.
	WorkflowTypes        []WorkflowType
	AllowAnyWorkflowType bool
	// MaxBodyBytes bounds request bodies (413 above it).
	MaxBodyBytes int64
	// TemporalTimeout bounds each call to Temporal made for a request.
	TemporalTimeout time.Duration
	// RetryAfter is what 503 answers tell clients to wait.
	RetryAfter time.Duration
	// MaxWait caps the `wait` of a request.
	MaxWait time.Duration
	// ConcurrentWaitsPerCaller and ConcurrentWaits bound the waits (wait > 0) and event streams
	// open at once, per caller (429 above it) and in total (503); 0 is no bound.
	ConcurrentWaitsPerCaller int
	ConcurrentWaits          int
	// ClosedCacheSize bounds how many closed executions are kept to answer reads without Temporal.
	ClosedCacheSize int
	// Draining, once closed, ends every wait early with the execution as it is and ends every
	// event stream, so that a shutting-down gateway answers them instead of cutting them off.
	// Nil means never.
	Draining <-chan struct{}
	// ParkedWaits, when set, lets waiting reads over HTTP/1.x take their connection over and wait
	// without a goroutine (see parked.go); it counts those not yet answered, which
	// http.Server.Shutdown does not wait for, so that shutdown can. Nil waits in the handler.
	ParkedWaits *sync.WaitGroup
	// Metrics is what GET /metrics serves, in the Prometheus text format; nil answers 404.
	Metrics prometheus.Gatherer
	// Instrument wraps the whole router, outside every other middleware, so that it sees each
	// request, even one refused before routing; it is given the chi router, which can name a
	// request's route (telemetry.Telemetry.Middleware). Nil wraps nothing.
	Instrument func(http.Handler) http.Handler
	// CORSAllowedOrigins are the web origins whose pages may call the API from a browser
	// (go-chi/cors patterns); empty turns CORS off.
	CORSAllowedOrigins []string
	// CORSMaxAge is how long a browser may reuse a preflight answer.
	CORSMaxAge time.Duration
	// RateLimit is how many requests one client may make per RateLimitWindow; 0 turns it off.
	RateLimit       int
	RateLimitWindow time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For names the client; any other peer is
	// the client itself.
	TrustedProxies []netip.Prefix
	// HSTS adds Strict-Transport-Security to every answer.
	HSTS bool
	// RestrictHosts answers 421 to a request of any but the public routes whose Host is neither a
	// loopback name (localhost, 127.0.0.1, [::1]) nor in AllowedHosts (lower case, without port):
	// an open gateway must not be reachable by DNS rebinding.
	RestrictHosts bool
	AllowedHosts  []string
	// Auth checks the credentials of every operation that the spec does not mark public; nil
	// runs the gateway open.
	Auth *auth.Authenticator
}

// Server implements the generated strict server interface.
type Server struct {
	opts   Options
	known  map[string]bool
	starts *executions.Starter
	// closed holds closed executions by run: they never change, so a read of one by run id needs
	// no Temporal call.
	closed *lru.Cache[runKey, gen.Execution]
	waiter *closeWaiter
	// waits bounds the waits and event streams held open.
	waits *waitLimiter
	// ready answers /readyz from a health check shared by every probe within a second.
	ready *telemetry.HealthCache
	// pw writes the problems of parked waits, which no middleware sees.
	pw problemWriter

	parkMu  sync.Mutex
	parked  map[*parkedGet]struct{} // waiting, to be answered at once when the gateway drains
	drained bool
}

var _ gen.StrictServerInterface = (*Server)(nil)

// NewServer returns the handlers for opts.
func NewServer(opts Options) *Server {
	known := make(map[string]bool, len(opts.WorkflowTypes))
	for _, t := range opts.WorkflowTypes {
		known[t.Name] = true
	}
	s := &Server{opts: opts, known: known, parked: map[*parkedGet]struct{}{},
		pw: newProblemWriter(opts), starts: executions.NewStarter(opts.Client, opts.TaskQueue)}
	s.closed, _ = lru.New[runKey, gen.Execution](max(1, opts.ClosedCacheSize))
	s.waiter = newCloseWaiter(opts.Client, opts.Logger, opts.Draining, s.finish)
	s.waits = newWaitLimiter(opts.ConcurrentWaitsPerCaller, opts.ConcurrentWaits, opts.RetryAfter)
	s.ready = telemetry.NewHealthCache(func(ctx context.Context) error {
		_, err := opts.Client.CheckHealth(ctx, &client.CheckHealthRequest{})
		if err != nil {
			// Logged by the one check, not by each probe that its result answers.
			opts.Logger.WarnContext(ctx, "temporal health check failed", "error", err)
		}
		return err
	}, telemetry.ReadyTTL, min(opts.TemporalTimeout, 2*time.Second))
	if opts.Draining != nil && opts.ParkedWaits != nil {
		go func() {
			<-opts.Draining
			s.drainParked()
		}()
	}
	return s
}

// finish builds a run's final Execution from its close event, for every request waiting on it.
func (s *Server) finish(ctx context.Context, key runKey, event *historypb.HistoryEvent) (gen.Execution, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	resp, err := s.opts.Client.DescribeWorkflowExecution(ctx, key.workflowID, key.runID)
	if err != nil {
		return gen.Execution{}, &executionError{"describe", key.workflowID, key.runID, err}
	}
	exec, err := executionFromDescribe(resp)
	if err != nil {
		return gen.Execution{}, err
	}
	withCloseEvent(&exec, event)
	s.closed.Add(key, exec)
	return exec, nil
}

// awaitClose holds a request on a running execution until it closes or the wait passes, and
// answers the execution as it then is.
func (s *Server) awaitClose(ctx context.Context, exec gen.Execution, wait time.Duration) (gen.Execution, error) {
	if wait <= 0 || exec.Status != gen.ExecutionStatusRUNNING {
		return exec, nil
	}
	final, closed, err := s.waiter.wait(ctx, runKey{exec.WorkflowId, exec.RunId}, wait)
	switch {
	case err != nil:
		return gen.Execution{}, err
	case closed:
		return final, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	return s.read(ctx, exec.WorkflowId, exec.RunId)
}

// waitParam reads the `wait` parameter, capped at MaxWait.
func (s *Server) waitParam(v *string) (time.Duration, error) {
	if v == nil {
		return 0, nil
	}
	d, err := time.ParseDuration(*v)
	if err != nil || d < 0 {
		return 0, validationProblem(gen.FieldError{In: gen.FieldErrorInQuery, Field: "wait", Message: "must be a duration such as 10s"})
	}
	return min(d, s.opts.MaxWait), nil
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
	if err := s.checkContract(body); err != nil {
		return nil, err
	}
	spec, err := startSpec(ctx, body, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	if err := requireStartScopes(ctx, spec); err != nil {
		return nil, err
	}
	if err := s.requireTaskQueue(ctx, spec.TaskQueue); err != nil {
		return nil, err
	}
	wait, err := s.waitParam(req.Params.Wait)
	if err != nil {
		return nil, err
	}
	// Taken before the start, so that a refusal means nothing was started.
	slot, err := s.holdWait(ctx, wait)
	if err != nil {
		return nil, err
	}
	defer slot.release()
	if spec.WorkflowID != "" {
		telemetry.SetWorkflowID(ctx, spec.WorkflowID)
	}

	reqCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	started, err := s.starts.Start(ctx, spec)
	if err != nil {
		return nil, refusedStart("start", spec.WorkflowID, err)
	}
	// The id may have been generated or derived from the key just now: record it for the log.
	telemetry.SetWorkflowID(reqCtx, started.WorkflowID)
	if started.Created && wait == 0 && prefersMinimal(req.Params.Prefer) {
		return startedMinimal{location: locationOf(started.WorkflowID, started.RunID)}, nil
	}
	exec, err := s.read(ctx, started.WorkflowID, started.RunID)
	if err != nil {
		return nil, err
	}
	if exec, err = s.awaitClose(reqCtx, exec, wait); err != nil {
		return nil, err
	}
	return startAnswer(exec, started), nil
}

// startedMinimal answers a new execution with 201 and no body, for a client that preferred
// return=minimal: Location names the run, and no Describe is spent on a body nobody reads.
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

// GetWorkflow reads an execution without waiting for it.
func (s *Server) GetWorkflow(ctx context.Context, req gen.GetWorkflowRequestObject) (gen.GetWorkflowResponseObject, error) {
	runID := deref(req.Params.RunId)
	wait, err := s.waitParam(req.Params.Wait)
	if err != nil {
		return nil, err
	}
	// Held until the wait is answered: here, or by the parked wait it is handed to.
	slot, err := s.holdWait(ctx, wait)
	if err != nil {
		return nil, err
	}
	defer func() { slot.release() }()
	var exec gen.Execution
	if key := (runKey{req.WorkflowId, runID}); runID != "" && wait > 0 && s.waiter.polling(key) {
		// Others wait on this very run: it exists, and the long poll they share answers its close
		// (at once if it has closed meanwhile), so a Describe now would tell this request nothing.
		// Thousands of readers of one run then cost Temporal nothing more.
		exec = gen.Execution{WorkflowId: key.workflowID, RunId: key.runID, Status: gen.ExecutionStatusRUNNING}
	} else {
		readCtx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
		defer cancel()
		if exec, err = s.read(readCtx, req.WorkflowId, runID); err != nil {
			return nil, err
		}
	}
	if wait > 0 && exec.Status == gen.ExecutionStatusRUNNING && s.canPark(ctx) {
		p := &parkedGet{s: s, ctx: ctx, exec: exec, wait: wait, runID: runID, ifNoneMatch: req.Params.IfNoneMatch, slot: slot}
		slot = nil
		return p, nil
	}
	if exec, err = s.awaitClose(ctx, exec, wait); err != nil {
		return nil, err
	}
	return s.getAnswer(exec, runID, req.Params.IfNoneMatch)
}

// getAnswer is the answer to a read of exec: 200 with its ETag, or 304 when ifNoneMatch has it.
func (s *Server) getAnswer(exec gen.Execution, runID string, ifNoneMatch *string) (gen.GetWorkflowResponseObject, error) {
	tag, err := etag(exec)
	if err != nil {
		return nil, err
	}
	// A closed run never changes: a URL naming it may be cached for good. Without a run id the
	// URL means "the latest run", which a new run can change.
	cacheControl := "no-cache"
	if runID != "" && exec.Status != gen.ExecutionStatusRUNNING {
		cacheControl = "private, max-age=31536000, immutable"
	}
	if ifNoneMatch != nil && etagMatches(*ifNoneMatch, tag) {
		return gen.GetWorkflow304Response{Headers: gen.GetWorkflow304ResponseHeaders{CacheControl: cacheControl, ETag: tag}}, nil
	}
	return gen.GetWorkflow200JSONResponse{Body: exec, Headers: gen.GetWorkflow200ResponseHeaders{CacheControl: cacheControl, ETag: tag}}, nil
}

// etag is a strong validator of the execution as answered: any change of it changes the tag.
func etag(exec gen.Execution) (string, error) {
	b, err := json.Marshal(exec)
	if err != nil {
		return "", fmt.Errorf("etag of %q: %w", exec.WorkflowId, err)
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`, nil
}

// etagMatches implements If-None-Match: a list of tags, or *, compared weakly (RFC 9110 13.1.2).
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// read describes an execution and, when it is closed, adds its close event: the result or the
// failure. It never waits for a running execution.
func (s *Server) read(ctx context.Context, workflowID, runID string) (gen.Execution, error) {
	if exec, ok := s.closed.Get(runKey{workflowID, runID}); ok {
		return exec, nil
	}
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
			s.closed.Add(runKey{workflowID, exec.RunId}, exec)
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

func location(exec gen.Execution) string { return locationOf(exec.WorkflowId, exec.RunId) }

func locationOf(workflowID, runID string) string {
	return "/workflows/" + url.PathEscape(workflowID) + "?runId=" + url.QueryEscape(runID)
}

// GetHealth answers while the process is alive.
func (s *Server) GetHealth(context.Context, gen.GetHealthRequestObject) (gen.GetHealthResponseObject, error) {
	return gen.GetHealth200JSONResponse{Status: "ok"}, nil
}

// GetReadiness answers whether Temporal is reachable, as a health check at most a second old
// found it: a flood of probes costs Temporal one check a second.
func (s *Server) GetReadiness(ctx context.Context, _ gen.GetReadinessRequestObject) (gen.GetReadinessResponseObject, error) {
	if err := s.ready.Check(ctx); err != nil {
		if errors.Is(err, telemetry.ErrHealthCheckPanicked) {
			return nil, err // the gateway's own fault: a 500, logged with the stack
		}
		return nil, unavailableProblem()
	}
	return gen.GetReadiness200JSONResponse{Status: "ok"}, nil
}

// GetOpenAPISpec serves the contract as written.
func (s *Server) GetOpenAPISpec(context.Context, gen.GetOpenAPISpecRequestObject) (gen.GetOpenAPISpecResponseObject, error) {
	return gen.GetOpenAPISpec200ApplicationyamlResponse{Body: bytes.NewReader(api.OpenAPI), ContentLength: int64(len(api.OpenAPI))}, nil
}

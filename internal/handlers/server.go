// Package handlers is the gateway's HTTP port: it implements the strict server generated from
// api/openapi.yaml, translating each request into a call of the executions core and what the
// core answers into the contract's response.
package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/api"
	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/schedules"
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
	opts  Options
	known map[string]bool
	core  *executions.Service
	// schedules is the schedules core.
	schedules *schedules.Service
	// waits bounds the waits and event streams held open.
	waits *waitLimiter
	// ready answers /readyz from a health check shared by every probe within a second.
	ready *telemetry.HealthCache
}

var _ gen.StrictServerInterface = (*Server)(nil)

// NewServer returns the handlers for opts.
func NewServer(opts Options) *Server {
	known := make(map[string]bool, len(opts.WorkflowTypes))
	for _, t := range opts.WorkflowTypes {
		known[t.Name] = true
	}
	s := &Server{opts: opts, known: known}
	s.core = executions.New(opts.Client, executions.Options{
		TaskQueue: opts.TaskQueue, Namespace: opts.Namespace, CallTimeout: opts.TemporalTimeout,
		ClosedCacheSize: opts.ClosedCacheSize, Draining: opts.Draining, Logger: opts.Logger,
	})
	s.schedules = schedules.New(opts.Client, schedules.Options{
		Namespace: opts.Namespace, TaskQueue: opts.TaskQueue, CallTimeout: opts.TemporalTimeout, Identity: "temporal-http-gateway",
	})
	s.waits = newWaitLimiter(opts.ConcurrentWaitsPerCaller, opts.ConcurrentWaits, opts.RetryAfter)
	s.ready = telemetry.NewHealthCache(func(ctx context.Context) error {
		_, err := opts.Client.CheckHealth(ctx, &client.CheckHealthRequest{})
		if err != nil {
			// Logged by the one check, not by each probe that its result answers.
			opts.Logger.WarnContext(ctx, "temporal health check failed", "error", err)
		}
		return err
	}, telemetry.ReadyTTL, min(opts.TemporalTimeout, 2*time.Second))
	return s
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

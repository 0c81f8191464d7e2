package telemetry

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
)

// RouteUnmatched is the route label of requests that match no route (404, 405, CORS preflights).
// Labels never hold a raw path: ids in paths would make one series per workflow.
const RouteUnmatched = "unmatched"

// httpMetrics are the gateway's own request metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight *prometheus.GaugeVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total",
			Help: "HTTP requests answered, by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route, method and status; waits and event streams included.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "status"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_http_requests_in_flight",
			Help: "HTTP requests being answered now, by route and method; waits and event streams stay in flight.",
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register http metrics: %w", err)
		}
	}
	return m, nil
}

// Middleware measures and traces every request that next answers. It is meant to wrap the
// whole chi router, outermost, so that it also sees the requests refused before routing (rate
// limit, body too large, preflight) and names each by the route pattern the router would choose.
// next must be a chi router (chi.Routes); any other handler's requests are all RouteUnmatched.
//
// With tracing on, each request gets a server span named "METHOD /route/{pattern}" that
// continues the caller's trace (W3C traceparent). A caller's baggage header is not read: the
// tracing interceptor would copy it into the headers, and so the history, of every workflow the
// caller starts, kilobytes a time, and on to the activities. Health, readiness and
// metrics requests are not traced: scrapes and probes would drown the traces that matter.
func (t *Telemetry) Middleware(next http.Handler) http.Handler {
	routes, _ := next.(chi.Routes)
	inner := next
	if t.TracingEnabled() {
		inner = otelhttp.NewHandler(next, "http.server",
			otelhttp.WithTracerProvider(t.tracerProvider),
			otelhttp.WithPropagators(propagation.TraceContext{}),
			// The request metrics are the Prometheus ones above; no second set.
			otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelhttp.WithFilter(func(r *http.Request) bool { return !ProbeRoutes[r.Pattern] }),
		)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := routeOf(routes, r)
		method := methodLabel(r.Method)
		inFlight := t.http.inFlight.WithLabelValues(route, method)
		inFlight.Inc()
		start := time.Now()
		if route != RouteUnmatched {
			// The span name and http.route come from Pattern, which the router sets only on its
			// own copy of the request: set it here, before the span starts.
			r = r.WithContext(r.Context())
			r.Pattern = route
		}
		sw := &statusWriter{ResponseWriter: w}
		done := func(status int) {
			s := strconv.Itoa(status)
			t.http.requests.WithLabelValues(route, method, s).Inc()
			t.http.duration.WithLabelValues(route, method, s).Observe(time.Since(start).Seconds())
			inFlight.Dec()
		}
		returned := false
		defer func() {
			if !returned {
				inFlight.Dec() // the handler panicked (http.ErrAbortHandler passes through)
			}
		}()
		inner.ServeHTTP(sw, r)
		returned = true
		done(sw.statusOr200())
	})
}

// ProbeRoutes are the routes that orchestrators and scrapers ask every few seconds: liveness,
// readiness and metrics. They are not traced (the spans would be noise), not rate limited
// (refusing them would restart or unlist a healthy gateway), and their answers of 200 are logged
// at debug level.
var ProbeRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// routeOf is the pattern of the route that answers r, found the way the router itself finds it.
func routeOf(routes chi.Routes, r *http.Request) string {
	if routes == nil {
		return RouteUnmatched
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	if pattern := routes.Find(chi.NewRouteContext(), r.Method, path); pattern != "" {
		return pattern
	}
	return RouteUnmatched
}

// methodLabel bounds the method label: a client may send any token as a method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	// 1xx answers are interim; the final status comes after them.
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets a handler that asserts http.Flusher stream through the wrapper (otelhttp does).
func (s *statusWriter) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the real writer (flushing, deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// statusOr200 is the status sent; a handler that wrote nothing sent 200.
func (s *statusWriter) statusOr200() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

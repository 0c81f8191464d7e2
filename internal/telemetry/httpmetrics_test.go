package telemetry_test

import (
	"bufio"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/temporalhttp/gateway/internal/telemetry"
)

func TestMiddlewareLabelsRequestsByRoutePattern(t *testing.T) {
	tel := newTelemetry(t)
	h := tel.Middleware(itemsRouter(nil))

	requests := []struct {
		method, path string
		refuse       bool
		wantStatus   int
	}{
		{http.MethodGet, "/items/42", false, http.StatusOK},
		{http.MethodGet, "/items/43", false, http.StatusOK},
		{http.MethodGet, "/items/a%2Fb", false, http.StatusOK},
		{http.MethodPost, "/items", false, http.StatusCreated},
		{http.MethodGet, "/items/7", true, http.StatusTooManyRequests},
		{http.MethodGet, "/no/such/path", false, http.StatusNotFound},
		{http.MethodDelete, "/items/42", false, http.StatusMethodNotAllowed},
		{"BREW", "/items/42", false, http.StatusMethodNotAllowed},
	}
	for _, r := range requests {
		req := httptest.NewRequest(r.method, r.path, nil)
		if r.refuse {
			req.Header.Set("X-Refuse", "yes")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, r.wantStatus, rec.Code, "%s %s", r.method, r.path)
	}

	want := map[string]float64{
		"method=GET,route=/items/{id},status=200": 3,
		"method=POST,route=/items,status=201":     1,
		// Refused before routing, yet named by the route it asked for.
		"method=GET,route=/items/{id},status=429":  1,
		"method=GET,route=unmatched,status=404":    1,
		"method=DELETE,route=unmatched,status=405": 1,
		// Any token is a method to net/http: the label stays bounded.
		"method=OTHER,route=unmatched,status=405": 1,
	}
	assert.Equal(t, want, series(t, tel.Registry, "gateway_http_requests_total"))
	assert.Equal(t, want, series(t, tel.Registry, "gateway_http_request_duration_seconds"), "one latency sample per request")
}

func TestMiddlewareCountsRequestsInFlight(t *testing.T) {
	tel := newTelemetry(t)
	entered, release := make(chan struct{}), make(chan struct{})
	h := tel.Middleware(itemsRouter(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
	}))
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/items/1", nil))
		close(done)
	}()
	<-entered
	assert.Equal(t, map[string]float64{"method=GET,route=/items/{id}": 1}, series(t, tel.Registry, "gateway_http_requests_in_flight"))
	close(release)
	<-done
	assert.Equal(t, map[string]float64{"method=GET,route=/items/{id}": 0}, series(t, tel.Registry, "gateway_http_requests_in_flight"))
}

// An event stream flushes each event and moves its write deadline through the wrappers; with
// tracing on, otelhttp wraps the writer too.
func TestMiddlewareKeepsStreaming(t *testing.T) {
	for _, tracing := range []bool{false, true} {
		t.Run(map[bool]string{false: "tracing off", true: "tracing on"}[tracing], func(t *testing.T) {
			var tel *telemetry.Telemetry
			if tracing {
				tel = newTelemetry(t, telemetry.WithSpanExporter(tracetest.NewInMemoryExporter()))
			} else {
				tel = newTelemetry(t)
			}
			release := make(chan struct{})
			errs := make(chan error, 3)
			srv := httptest.NewServer(tel.Middleware(itemsRouter(func(w http.ResponseWriter, _ *http.Request) {
				if _, ok := w.(http.Flusher); !ok {
					errs <- errors.New("the writer is no http.Flusher")
				} else {
					errs <- nil
				}
				rc := http.NewResponseController(w)
				errs <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = w.Write([]byte("data: first\n\n"))
				errs <- rc.Flush()
				<-release
			})))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/items/1")
			require.NoError(t, err)
			defer resp.Body.Close()
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			require.NoError(t, err, "the first event arrives while the handler still runs")
			assert.Equal(t, "data: first\n", line)
			close(release)
			require.NoError(t, <-errs, "a handler that asserts http.Flusher can stream")
			require.NoError(t, <-errs, "SetWriteDeadline reaches the connection")
			require.NoError(t, <-errs, "Flush reaches the connection")
		})
	}
}

func TestMiddlewareTracesByRouteAndContinuesTheCallersTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := newTelemetry(t, telemetry.WithSpanExporter(exp))
	var seen trace.SpanContext
	var seenBaggage baggage.Baggage
	h := tel.Middleware(itemsRouter(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/items/42" {
			seen = trace.SpanContextFromContext(r.Context())
			seenBaggage = baggage.FromContext(r.Context())
		}
	}))

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
	req.Header.Set("traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	req.Header.Set("baggage", "tenant=acme,padding="+strings.Repeat("x", 2000))
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))

	spans := exp.GetSpans()
	require.Len(t, spans, 1, "one span for /items/42, none for the health probe")
	span := spans[0]
	assert.Equal(t, "GET /items/{id}", span.Name, "named by route pattern, not by path")
	assert.Equal(t, trace.SpanKindServer, span.SpanKind)
	assert.Equal(t, callerTrace, span.SpanContext.TraceID().String(), "continues the caller's trace")
	assert.Equal(t, callerSpan, span.Parent.SpanID().String(), "child of the caller's span")
	assert.Equal(t, span.SpanContext.SpanID(), seen.SpanID(), "the handler runs inside the span")
	assert.Zero(t, seenBaggage.Len(), "a caller's baggage never reaches the workflows it starts")
	attrs := map[string]string{}
	for _, a := range span.Attributes {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	assert.Equal(t, "/items/{id}", attrs["http.route"])
	assert.Equal(t, "200", attrs["http.response.status_code"])
	assert.Equal(t, "test-service", resourceServiceName(span.Resource.Attributes()))
}

func TestTracingIsOffWithoutAnEndpoint(t *testing.T) {
	before := settledGoroutines()
	tel := newTelemetry(t)
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "nothing runs in the background")
	assert.False(t, tel.TracingEnabled())
	assert.Empty(t, tel.Interceptors(), "no tracing interceptor on the Temporal client")

	var seen trace.SpanContext
	h := tel.Middleware(itemsRouter(func(w http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
	}))
	req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.False(t, seen.IsValid(), "no span, so no trace_id in the logs")
}

// settledGoroutines counts goroutines once the count has stopped changing for 50 ms (or after 2 s):
// servers and connections of earlier tests in the package take a moment to wind down.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			break
		}
		n = m
	}
	return n
}

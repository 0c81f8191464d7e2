package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/temporalhttp/gateway/client"
	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/handlers"
	"github.com/temporalhttp/gateway/internal/telemetry"
	"github.com/temporalhttp/gateway/internal/temporal"
)

// callerTraceparent is a trace the HTTP caller started: the gateway's spans continue it.
const (
	callerTraceID     = "0af7651916cd43dd8448eb211c80319c"
	callerSpanID      = "b7ad6b7169203331"
	callerTraceparent = "00-" + callerTraceID + "-" + callerSpanID + "-01"
)

// TestTraceFollowsARequestIntoTheWorkflowAndItsActivity runs, in this test process, the real
// router over a real SDK client and a real worker (on a task queue of its own, so the suite's
// worker never takes its tasks), all on one tracer provider with an in-memory exporter. One
// start with wait must give one trace: the caller's span, then the HTTP server span, then the
// SDK's StartWorkflow, RunWorkflow, StartActivity and RunActivity spans, each the child of the
// one before.
func TestTraceFollowsARequestIntoTheWorkflowAndItsActivity(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tel, err := telemetry.New(t.Context(), config.Telemetry{ServiceName: "tracing-test"}, logger, telemetry.WithSpanExporter(spans))
	require.NoError(t, err)
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()

	c, err := sdkclient.Dial(executions.ClientOptions(tel.ClientOptions(sdkclient.Options{
		HostPort: temporalAddr, Namespace: "default", Logger: sdklog.NewStructuredLogger(logger),
	})))
	require.NoError(t, err)
	defer c.Close()
	queue := uniqueID(t)
	w := worker.New(c, queue, worker.Options{})
	temporal.Register(w, &temporal.Activities{Bank: temporal.NewBank(temporal.SeedAccounts)})
	require.NoError(t, w.Start())
	defer w.Stop()

	types, err := handlers.ContractWorkflowTypes()
	require.NoError(t, err)
	router, err := handlers.NewRouter(handlers.Options{
		Client: handlers.NewSDK(c), Logger: logger, Namespace: "default", TaskQueue: queue, WorkflowTypes: types,
		MaxBodyBytes: 2 << 20, TemporalTimeout: 10 * time.Second, RetryAfter: 2 * time.Second,
		MaxWait: 30 * time.Second, ClosedCacheSize: 100,
		Metrics: tel.Registry, Instrument: tel.Middleware,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(router)
	defer srv.Close()

	id := uniqueID(t)
	r, err := apiAt(t, srv.URL).StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("20s")},
		client.StartWorkflowRequest{WorkflowType: "Greeting", WorkflowId: &id, Input: rawJSON(`{"name":"Trace"}`)},
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("traceparent", callerTraceparent)
			return nil
		})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	require.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON201.Status, "body: %s", r.Body)

	chain := []string{"POST /workflows", "StartWorkflow:Greeting", "RunWorkflow:Greeting", "StartActivity:ComposeGreeting", "RunActivity:ComposeGreeting"}
	byName := map[string]tracetest.SpanStub{}
	require.Eventually(t, func() bool {
		for _, s := range spans.GetSpans() {
			if s.SpanContext.TraceID().String() == callerTraceID {
				byName[s.Name] = s
			}
		}
		return len(byName) >= len(chain)
	}, 10*time.Second, 50*time.Millisecond, "spans of the caller's trace: %v", names(spans.GetSpans()))

	parent := callerSpanID
	for _, name := range chain {
		s, ok := byName[name]
		require.True(t, ok, "no %q span in the caller's trace; have %v", name, names(spans.GetSpans()))
		assert.Equal(t, parent, s.Parent.SpanID().String(), "%q is the child of the span before it", name)
		parent = s.SpanContext.SpanID().String()
	}
	assert.Equal(t, trace.SpanKindServer, byName["POST /workflows"].SpanKind)
}

func names(stubs tracetest.SpanStubs) []string {
	var out []string
	for _, s := range stubs {
		out = append(out, s.Name)
	}
	return out
}

// otlpCollector is a fake OTLP/HTTP traces receiver.
type otlpCollector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	// services holds the service.name of each span, by span id.
	services map[string]string
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	req := &coltracepb.ExportTraceServiceRequest{}
	if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, req) != nil {
		http.Error(w, "not an OTLP traces export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		var service string
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, s)
				c.services[trace.SpanID(s.GetSpanId()).String()] = service
			}
		}
	}
	c.mu.Unlock()
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// span returns the received span named name in the trace, if any.
func (c *otlpCollector) span(traceID, name string) (*tracepb.Span, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.spans {
		if s.GetName() == name && trace.TraceID(s.GetTraceId()).String() == traceID {
			return s, c.services[trace.SpanID(s.GetSpanId()).String()], true
		}
	}
	return nil, "", false
}

// TestGatewayExportsTracesOverOTLP runs a gateway process with OTEL_EXPORTER_OTLP_ENDPOINT set
// to a fake collector: a start through it reaches the collector as the gateway's server span and
// the Temporal client's StartWorkflow span beneath it, in the caller's trace.
func TestGatewayExportsTracesOverOTLP(t *testing.T) {
	collector := &otlpCollector{services: map[string]string{}}
	receiver := httptest.NewServer(collector)
	defer receiver.Close()
	gw, base, err := startGateway([]string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue, "GATEWAY_HTTP_ADDR=127.0.0.1:0",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + receiver.URL,
		// The SDK's own knob: export every 100ms rather than every 5s.
		"OTEL_BSP_SCHEDULE_DELAY=100",
	})
	require.NoError(t, err)
	defer gw.stop()
	require.NoError(t, waitReady(base))

	id := uniqueID(t)
	r, err := apiAt(t, base).StartWorkflowWithResponse(t.Context(), nil,
		client.StartWorkflowRequest{WorkflowType: "Greeting", WorkflowId: &id, Input: rawJSON(`{"name":"Otel"}`)},
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("traceparent", callerTraceparent)
			return nil
		})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)

	var server, start *tracepb.Span
	var service string
	require.Eventually(t, func() bool {
		var ok1, ok2 bool
		server, service, ok1 = collector.span(callerTraceID, "POST /workflows")
		start, _, ok2 = collector.span(callerTraceID, "StartWorkflow:Greeting")
		return ok1 && ok2
	}, 15*time.Second, 100*time.Millisecond, "the collector received the gateway's spans of the start")
	assert.Equal(t, "temporal-http-gateway", service)
	assert.Equal(t, callerSpanID, trace.SpanID(server.GetParentSpanId()).String(), "the server span continues the caller's trace")
	assert.Equal(t, server.GetSpanId(), start.GetParentSpanId(), "StartWorkflow is the child of the server span")
	assert.Equal(t, tracepb.Span_SPAN_KIND_SERVER, server.GetKind())
}

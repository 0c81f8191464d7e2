package telemetry_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

func resourceServiceName(attrs []attribute.KeyValue) string {
	for _, a := range attrs {
		if a.Key == "service.name" {
			return a.Value.AsString()
		}
	}
	return ""
}

func TestSDKMetricsReachTheRegistry(t *testing.T) {
	tel := newTelemetry(t)
	h := tel.MetricsHandler().WithTags(map[string]string{"operation": "StartWorkflowExecution"})
	h.Counter("temporal_request").Inc(2)
	h.Timer("temporal_request_latency").Record(30 * time.Millisecond)
	h.Gauge("temporal_worker_task_slots_available").Update(5)

	assert.Equal(t, map[string]float64{"operation=StartWorkflowExecution": 2}, series(t, tel.Registry, "temporal_request_total"),
		"an SDK counter is a Prometheus counter")
	assert.Equal(t, map[string]float64{"operation=StartWorkflowExecution": 1}, series(t, tel.Registry, "temporal_request_latency_seconds"))
	assert.Equal(t, map[string]float64{"operation=StartWorkflowExecution": 5}, series(t, tel.Registry, "temporal_worker_task_slots_available"))

	families, err := tel.Registry.Gather()
	require.NoError(t, err)
	var bounds []float64
	for _, mf := range families {
		if mf.GetName() == "temporal_request_latency_seconds" {
			for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
			}
		}
	}
	assert.Contains(t, bounds, 0.05, "buckets in seconds, not the OpenTelemetry default meant for milliseconds")
	assert.Contains(t, bounds, 60.0, "a long poll fits a bucket")

	names := map[string]bool{}
	for _, mf := range families {
		names[mf.GetName()] = true
	}
	assert.True(t, names["go_goroutines"], "Go runtime collector")
	assert.True(t, names["process_cpu_seconds_total"], "process collector")
}

func TestClientOptions(t *testing.T) {
	existing := &interceptor.ClientInterceptorBase{}
	base := client.Options{HostPort: "temporal:7233", Interceptors: []interceptor.ClientInterceptor{existing}}

	off := newTelemetry(t).ClientOptions(base)
	assert.Equal(t, "temporal:7233", off.HostPort)
	assert.NotNil(t, off.MetricsHandler)
	assert.Equal(t, []interceptor.ClientInterceptor{existing}, off.Interceptors, "tracing off adds no interceptor")

	tel := newTelemetry(t, telemetry.WithSpanExporter(tracetest.NewInMemoryExporter()))
	on := tel.ClientOptions(base)
	require.Len(t, on.Interceptors, 2)
	assert.Equal(t, existing, on.Interceptors[0], "the caller's interceptors come first")
	assert.Equal(t, tel.Interceptors()[0], on.Interceptors[1])
	_, isWorkerInterceptor := on.Interceptors[1].(interceptor.WorkerInterceptor)
	assert.True(t, isWorkerInterceptor, "workers built on the client trace workflows and activities")
	assert.Len(t, base.Interceptors, 1, "the caller's options are not changed")
}

// received is one export a fake collector got.
type received struct {
	req    *coltracepb.ExportTraceServiceRequest
	header func(string) string
	path   string
}

func TestOTLPExport(t *testing.T) {
	tests := []struct {
		protocol string
		// collector starts a fake OTLP receiver and returns its endpoint as configured.
		collector func(t *testing.T, got chan<- received) string
	}{
		{config.ProtocolHTTP, httpCollector},
		{config.ProtocolGRPC, grpcCollector},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			got := make(chan received, 10)
			cfg := config.Telemetry{
				ServiceName:    "exporting-service",
				TracesEndpoint: tt.collector(t, got),
				TracesProtocol: tt.protocol,
				TracesHeaders:  map[string]string{"x-api-key": "key-1"},
			}
			tel, err := telemetry.New(t.Context(), cfg, discard)
			require.NoError(t, err)
			require.True(t, tel.TracingEnabled())
			select {
			case <-got:
				t.Fatal("nothing is exported before there is a span")
			default:
			}

			tel.Middleware(itemsRouter(nil)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/items/42", nil))
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			require.NoError(t, tel.Shutdown(ctx), "shutdown exports what is buffered")

			var r received
			select {
			case r = <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("the collector received no export")
			}
			assert.Equal(t, "key-1", r.header("x-api-key"), "configured headers go with each export")
			if tt.protocol == config.ProtocolHTTP {
				assert.Equal(t, "/v1/traces", r.path)
			}
			require.Len(t, r.req.GetResourceSpans(), 1)
			rs := r.req.GetResourceSpans()[0]
			var service string
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			assert.Equal(t, "exporting-service", service)
			var names []string
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					names = append(names, s.GetName())
				}
			}
			assert.Equal(t, []string{"GET /items/{id}"}, names)
		})
	}
}

func httpCollector(t *testing.T, got chan<- received) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		req := &coltracepb.ExportTraceServiceRequest{}
		if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, req) != nil {
			http.Error(w, "not an OTLP protobuf export", http.StatusBadRequest)
			return
		}
		got <- received{req: req, header: r.Header.Get, path: r.URL.Path}
		resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/traces"
}

type grpcTraceService struct {
	coltracepb.UnimplementedTraceServiceServer
	got chan<- received
}

func (s grpcTraceService) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.got <- received{req: req, header: func(k string) string {
		if v := md.Get(k); len(v) > 0 {
			return v[0]
		}
		return ""
	}}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func grpcCollector(t *testing.T, got chan<- received) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, grpcTraceService{got: got})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return "http://" + ln.Addr().String()
}

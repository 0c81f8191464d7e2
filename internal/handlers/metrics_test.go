package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/handlers"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

// withTelemetry wires tel into the router the way the gateway does.
func withTelemetry(tel *telemetry.Telemetry) func(*handlers.Options) {
	return func(o *handlers.Options) {
		o.Metrics = tel.Registry
		o.Instrument = tel.Middleware
	}
}

func newTelemetry(t *testing.T, opts ...telemetry.Option) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(t.Context(), config.Telemetry{ServiceName: "gateway-test", TracesProtocol: config.ProtocolHTTP},
		slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	return tel
}

// scrape GETs /metrics through h and parses the answer as Prometheus does.
func scrape(t *testing.T, h http.Handler) map[string]map[string]float64 {
	t.Helper()
	rec := serve(h, newRequest(http.MethodGet, "/metrics", ""))
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8", rec.Header().Get("Content-Type"))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	require.NoError(t, err, "the answer is the Prometheus text format")
	out := map[string]map[string]float64{}
	for name, mf := range families {
		out[name] = map[string]float64{}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			out[name][strings.Join(labels, ",")] = v
		}
	}
	return out
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	tel := newTelemetry(t)
	h := newRouter(t, &fakeTemporal{}, withTelemetry(tel))

	for _, r := range []struct {
		method, target, body string
		want                 int
	}{
		{http.MethodPost, "/workflows", `{"workflowType":"Greeting","workflowId":"greeting-1","input":{"name":"Ada"}}`, http.StatusCreated},
		{http.MethodPost, "/workflows", `{"workflowType":"Greeting","workflowId":"greeting-2","input":{"name":"Bo"}}`, http.StatusCreated},
		{http.MethodGet, "/workflows/greeting-1", "", http.StatusOK},
		{http.MethodGet, "/workflows/greeting-2", "", http.StatusOK},
		{http.MethodPost, "/workflows", `{"workflowType":"Nope"}`, http.StatusUnprocessableEntity},
		{http.MethodGet, "/no/such/thing", "", http.StatusNotFound},
	} {
		rec := serve(h, newRequest(r.method, r.target, r.body))
		require.Equal(t, r.want, rec.Code, "%s %s: %s", r.method, r.target, rec.Body)
	}

	m := scrape(t, h)
	assert.Equal(t, map[string]float64{
		"method=POST,route=/workflows,status=201":             2,
		"method=POST,route=/workflows,status=422":             1,
		"method=GET,route=/workflows/{workflowId},status=200": 2,
		"method=GET,route=unmatched,status=404":               1,
	}, m["gateway_http_requests_total"], "labelled by route pattern: no workflow id in any label")
	assert.Equal(t, m["gateway_http_requests_total"], m["gateway_http_request_duration_seconds"])
	assert.Contains(t, m["gateway_http_requests_in_flight"], "method=GET,route=/metrics", "the scrape itself is in flight")
	assert.Contains(t, m, "go_goroutines")
	assert.Contains(t, m, "process_resident_memory_bytes")

	// The scrape is counted by the next one.
	assert.Equal(t, 1.0, scrape(t, h)["gateway_http_requests_total"]["method=GET,route=/metrics,status=200"])
}

func TestMetricsShowTheTemporalClientsMetrics(t *testing.T) {
	tel := newTelemetry(t)
	// What the SDK does for each call when the client is built with tel.ClientOptions.
	tel.MetricsHandler().WithTags(map[string]string{"operation": "StartWorkflowExecution"}).Counter("temporal_request").Inc(1)

	m := scrape(t, newRouter(t, &fakeTemporal{}, withTelemetry(tel)))
	assert.Equal(t, map[string]float64{"operation=StartWorkflowExecution": 1}, m["temporal_request_total"])
}

func TestMetricsWithoutARegistryAreNotFound(t *testing.T) {
	rec := serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodGet, "/metrics", ""))
	requireProblem(t, rec, "urn:temporal-http:problem:not-found")
}

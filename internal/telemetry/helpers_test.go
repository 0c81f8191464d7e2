package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// newTelemetry builds telemetry as a process with no OTLP endpoint does, plus opts.
func newTelemetry(t *testing.T, opts ...telemetry.Option) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(t.Context(), config.Telemetry{ServiceName: "test-service", TracesProtocol: config.ProtocolHTTP}, discard, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	return tel
}

// itemsRouter is a small chi router shaped like the gateway's: a middleware that may refuse a
// request before routing (as the rate limit does), and routes with path parameters.
func itemsRouter(handler http.HandlerFunc) chi.Router {
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Refuse") != "" {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ok := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if handler != nil {
				handler(w, r)
				return
			}
			w.WriteHeader(status)
		}
	}
	r.Get("/items/{id}", ok(http.StatusOK))
	r.Post("/items", ok(http.StatusCreated))
	r.Get("/healthz", ok(http.StatusOK))
	return r
}

// series reads every series of the named family from g, keyed by its labels as
// "name=value,..." in label-name order, valued by its counter or gauge value or its histogram's
// sample count.
func series(t *testing.T, g prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[labelKey(m)] = metricValue(m)
		}
	}
	return out
}

func labelKey(m *dto.Metric) string {
	var pairs []string
	for _, l := range m.GetLabel() {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

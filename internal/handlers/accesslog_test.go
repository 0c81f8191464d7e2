package handlers_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/temporalhttp/gateway/internal/handlers"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

// logTo sends the router's log, as JSON, to buf.
func logTo(buf *bytes.Buffer) func(*handlers.Options) {
	return func(o *handlers.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// logLines decodes every JSON line in buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
		lines = append(lines, line)
	}
	require.NotEmpty(t, lines)
	return lines
}

func accessLine(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	for _, l := range lines {
		if l["msg"] == "http request" {
			return l
		}
	}
	t.Fatalf("no access log line in %v", lines)
	return nil
}

func TestAccessLogNamesTheWorkflowAStartMade(t *testing.T) {
	tests := []struct {
		name, body, idempotencyKey string
	}{
		{"id generated", `{"workflowType":"Greeting","input":{"name":"Ada"}}`, ""},
		{"id derived from the idempotency key", `{"workflowType":"Greeting","input":{"name":"Ada"}}`, "key-1"},
		{"id given", `{"workflowType":"Greeting","workflowId":"greeting-ada"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			req := newRequest(http.MethodPost, "/workflows", tt.body)
			if tt.idempotencyKey != "" {
				req.Header.Set("Idempotency-Key", tt.idempotencyKey)
			}
			rec := serve(newRouter(t, &fakeTemporal{}, logTo(&buf)), req)
			require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
			exec, _ := decodeExecution(t, rec)

			line := accessLine(t, logLines(t, &buf))
			assert.Equal(t, exec.WorkflowId, line["workflow_id"])
			assert.Equal(t, rec.Header().Get("X-Request-Id"), line["request_id"])
			assert.NotContains(t, line, "trace_id", "tracing is off")
		})
	}
}

func TestAccessLogNamesTheWorkflowOfThePath(t *testing.T) {
	var buf bytes.Buffer
	fake := &fakeTemporal{}
	h := newRouter(t, fake, logTo(&buf))
	require.Equal(t, http.StatusCreated, serve(h, newRequest(http.MethodPost, "/workflows", `{"workflowType":"Sleep","workflowId":"sleep-1"}`)).Code)
	buf.Reset()
	require.Equal(t, http.StatusOK, serve(h, newRequest(http.MethodGet, "/workflows/sleep-1", "")).Code)
	assert.Equal(t, "sleep-1", accessLine(t, logLines(t, &buf))["workflow_id"])
}

// A handler's own warnings carry the ids too, not only the access log.
func TestEveryLineARequestLogsCarriesItsIDs(t *testing.T) {
	for _, tracing := range []bool{false, true} {
		t.Run(map[bool]string{false: "tracing off", true: "tracing on"}[tracing], func(t *testing.T) {
			var opts []telemetry.Option
			exp := tracetest.NewInMemoryExporter()
			if tracing {
				opts = append(opts, telemetry.WithSpanExporter(exp))
			}
			var buf bytes.Buffer
			h := newRouter(t, &fakeTemporal{describeErr: errors.New(secret)}, logTo(&buf), withTelemetry(newTelemetry(t, opts...)))
			req := newRequest(http.MethodGet, "/workflows/greeting-1", "")
			req.Header.Set("X-Request-Id", "req-42")
			rec := serve(h, req)
			require.Equal(t, http.StatusInternalServerError, rec.Code, "body: %s", rec.Body)

			raw := buf.String()
			lines := logLines(t, &buf)
			require.GreaterOrEqual(t, len(lines), 2, "the handler's error and the access log: %v", lines)
			assert.Equal(t, len(lines), strings.Count(raw, `"request_id"`), "no line names its request twice: %s", raw)
			for _, l := range lines {
				assert.Equal(t, "req-42", l["request_id"], "%v", l)
				assert.Equal(t, "greeting-1", l["workflow_id"], "%v", l)
				if !tracing {
					assert.NotContains(t, l, "trace_id")
					continue
				}
				spans := exp.GetSpans()
				require.Len(t, spans, 1)
				assert.Equal(t, spans[0].SpanContext.TraceID().String(), l["trace_id"], "%v", l)
				assert.Equal(t, spans[0].SpanContext.SpanID().String(), l["span_id"], "%v", l)
			}
		})
	}
}

func TestProbesAreLoggedAtDebugWhenTheyPass(t *testing.T) {
	tests := []struct {
		name, target string
		fake         *fakeTemporal
		level        string
	}{
		{"healthz", "/healthz", &fakeTemporal{}, "DEBUG"},
		{"readyz, ready", "/readyz", &fakeTemporal{}, "DEBUG"},
		{"readyz, Temporal unavailable", "/readyz", &fakeTemporal{healthErr: errors.New(secret)}, "INFO"},
		{"an API request", "/workflow-types", &fakeTemporal{}, "INFO"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			serve(newRouter(t, tc.fake, logTo(&buf)), newRequest(http.MethodGet, tc.target, ""))
			assert.Equal(t, tc.level, accessLine(t, logLines(t, &buf))["level"])
		})
	}
}

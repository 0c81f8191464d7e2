package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/temporalhttp/gateway/internal/telemetry"
)

// logLine logs one warning with ctx through a wrapped JSON handler and returns the line decoded
// and raw.
func logLine(t *testing.T, ctx context.Context, args ...any) (map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	logger := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(&buf, nil)))
	logger.WarnContext(ctx, "something", args...)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	return line, buf.String()
}

func TestLogHandlerAddsTheRequestsIDs(t *testing.T) {
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	withSpan := func(ctx context.Context) context.Context {
		return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled}))
	}
	withRoute := func(ctx context.Context) context.Context {
		rctx := chi.NewRouteContext()
		rctx.URLParams.Add("workflowId", "from-path")
		return context.WithValue(ctx, chi.RouteCtxKey, rctx)
	}
	tests := []struct {
		name string
		ctx  func() context.Context
		want map[string]string
	}{
		{"no request", context.Background, map[string]string{}},
		{"request", func() context.Context { return telemetry.WithRequestID(context.Background(), "req-1") },
			map[string]string{"request_id": "req-1"}},
		{"workflow id recorded by the handler", func() context.Context {
			ctx := telemetry.WithRequestID(context.Background(), "req-1")
			telemetry.SetWorkflowID(ctx, "generated-id")
			return ctx
		}, map[string]string{"request_id": "req-1", "workflow_id": "generated-id"}},
		{"workflow id of the route", func() context.Context {
			return withRoute(telemetry.WithRequestID(context.Background(), "req-1"))
		}, map[string]string{"request_id": "req-1", "workflow_id": "from-path"}},
		{"span", func() context.Context { return withSpan(telemetry.WithRequestID(context.Background(), "req-1")) },
			map[string]string{"request_id": "req-1", "trace_id": traceID.String(), "span_id": spanID.String()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, _ := logLine(t, tt.ctx())
			got := map[string]string{}
			for _, k := range []string{"request_id", "workflow_id", "trace_id", "span_id"} {
				if v, ok := line[k]; ok {
					got[k] = v.(string)
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLogHandlerDoesNotRepeatAKey(t *testing.T) {
	ctx := telemetry.WithRequestID(context.Background(), "req-1")
	telemetry.SetWorkflowID(ctx, "recorded")
	line, raw := logLine(t, ctx, "request_id", "req-1", "workflow_id", "explicit")
	assert.Equal(t, 1, strings.Count(raw, `"request_id"`), raw)
	assert.Equal(t, 1, strings.Count(raw, `"workflow_id"`), raw)
	assert.Equal(t, "explicit", line["workflow_id"], "what the caller logged stands")
}

func TestLogHandlerSurvivesWithAndWrapsOnce(t *testing.T) {
	var buf bytes.Buffer
	h := telemetry.NewLogHandler(slog.NewJSONHandler(&buf, nil))
	assert.Same(t, h, telemetry.NewLogHandler(h), "wrapping twice would not add the ids twice")
	slog.New(h).With("component", "x").InfoContext(telemetry.WithRequestID(context.Background(), "req-2"), "hello")
	assert.Contains(t, buf.String(), `"component":"x"`)
	assert.Contains(t, buf.String(), `"request_id":"req-2"`)
}

func TestSetWorkflowIDWithoutARequestDoesNothing(t *testing.T) {
	ctx := context.Background()
	telemetry.SetWorkflowID(ctx, "lost")
	assert.Empty(t, telemetry.WorkflowID(ctx))
	assert.Empty(t, telemetry.RequestID(ctx))
}

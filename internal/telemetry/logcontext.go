package telemetry

import (
	"context"
	"log/slog"
	"sync"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Log attribute keys that tie a log line to its request, its workflow and its trace.
const (
	LogKeyRequestID  = "request_id"
	LogKeyWorkflowID = "workflow_id"
	LogKeyTraceID    = "trace_id"
	LogKeySpanID     = "span_id"
)

type requestKey struct{}

// requestInfo is what every log line of one request shares. The workflow id is often learnt
// only while the request is handled (a generated or derived id), hence a holder that the handler
// fills in and the access log reads afterwards.
type requestInfo struct {
	id string

	mu         sync.Mutex
	workflowID string
}

// WithRequestID returns ctx carrying the request's id and an empty holder for the workflow id
// the request turns out to be about. The id is also put on the request's span, so that a trace
// can be found from a log line and the other way round.
func WithRequestID(ctx context.Context, id string) context.Context {
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("gateway.request_id", id))
	return context.WithValue(ctx, requestKey{}, &requestInfo{id: id})
}

// RequestID is the id WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// SetWorkflowID records which workflow the request in ctx is about, for the log lines that
// follow, the access log included. Without WithRequestID it does nothing.
func SetWorkflowID(ctx context.Context, workflowID string) {
	if info, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		info.mu.Lock()
		info.workflowID = workflowID
		info.mu.Unlock()
	}
}

// WorkflowID is the workflow the request in ctx is about: the one SetWorkflowID recorded, else
// the {workflowId} of the route it matched, else "".
func WorkflowID(ctx context.Context) string {
	if info, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		info.mu.Lock()
		id := info.workflowID
		info.mu.Unlock()
		if id != "" {
			return id
		}
	}
	if rctx := chi.RouteContext(ctx); rctx != nil {
		return rctx.URLParam("workflowId")
	}
	return ""
}

// NewLogHandler wraps h so that every record logged with a context (InfoContext, WarnContext,
// ...) carries request_id and workflow_id when the context belongs to a request, and trace_id and
// span_id when it holds a span, that is, when tracing is on. A key the record already has is not
// added again. Wrapping a handler this returned returns it unchanged.
func NewLogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*contextLogHandler); ok {
		return h
	}
	return &contextLogHandler{inner: h}
}

type contextLogHandler struct {
	inner slog.Handler
}

func (h *contextLogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *contextLogHandler) Handle(ctx context.Context, r slog.Record) error {
	var add []slog.Attr
	if id := RequestID(ctx); id != "" {
		add = append(add, slog.String(LogKeyRequestID, id))
	}
	if id := WorkflowID(ctx); id != "" {
		add = append(add, slog.String(LogKeyWorkflowID, id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		add = append(add, slog.String(LogKeyTraceID, sc.TraceID().String()), slog.String(LogKeySpanID, sc.SpanID().String()))
	}
	if len(add) == 0 {
		return h.inner.Handle(ctx, r)
	}
	r.Attrs(func(a slog.Attr) bool {
		for i := range add {
			if add[i].Key == a.Key {
				add = append(add[:i], add[i+1:]...)
				break
			}
		}
		return len(add) > 0
	})
	r = r.Clone()
	r.AddAttrs(add...)
	return h.inner.Handle(ctx, r)
}

func (h *contextLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &contextLogHandler{inner: h.inner.WithAttrs(attrs)}
}

func (h *contextLogHandler) WithGroup(name string) slog.Handler {
	return &contextLogHandler{inner: h.inner.WithGroup(name)}
}

package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
)

// sseHeartbeat is how often an idle event stream sends a comment, so that proxies and clients
// keep the connection open.
const sseHeartbeat = 15 * time.Second

// WatchWorkflow streams the execution as Server-Sent Events: its state now, and again when it
// changes, until it has closed. It rides the same shared long poll as `wait`.
func (s *Server) WatchWorkflow(ctx context.Context, req gen.WatchWorkflowRequestObject) (gen.WatchWorkflowResponseObject, error) {
	// Read before answering, so that an unknown execution is a plain 404 problem, not a stream.
	exec, err := s.core.Describe(ctx, req.WorkflowId, deref(req.Params.RunId))
	if err != nil {
		return nil, err
	}
	stream := eventStream{s: s, ctx: ctx, first: exec}
	if exec.Running() {
		// A stream is held for as long as its run lasts: it takes a slot, as a wait does, until it
		// ends. A stream of a closed run ends at its first event, and holds nothing.
		if stream.slot, err = s.waits.acquire(ctx); err != nil {
			return nil, err
		}
	}
	return stream, nil
}

// eventStream writes the stream itself: the generated response type copies a reader without
// flushing, and each event must reach the client as it happens.
type eventStream struct {
	s     *Server
	ctx   context.Context
	first executions.Execution
	slot  *waitSlot // given back when the stream ends
}

func (e eventStream) VisitWatchWorkflowResponse(w http.ResponseWriter) error {
	defer e.slot.release()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell nginx-like proxies not to hold events back
	w.WriteHeader(http.StatusOK)

	send := func(write func(io.Writer) error) error {
		// The server's write timeout is for ordinary answers; a stream lives as long as its run.
		_ = rc.SetWriteDeadline(time.Now().Add(sseHeartbeat + 10*time.Second))
		if err := write(w); err != nil {
			return err
		}
		return rc.Flush()
	}
	event := func(exec executions.Execution) error {
		return send(func(w io.Writer) error {
			data, err := json.Marshal(executionBody(exec))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "event: execution\ndata: %s\n\n", data)
			return err
		})
	}

	// Once the headers are out, an error cannot become a problem response: a failed write means
	// the client left, and a failed wait is told as an error event before the stream ends.
	exec := e.first
	if event(exec) != nil {
		return nil
	}
	if !exec.Running() {
		return nil
	}
	// One share of the run's long poll for the whole stream, so a quiet stream costs Temporal
	// one poll, not one per heartbeat.
	done, result, release := e.s.core.Watch(exec)
	defer release()
	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return nil // the client left
		case <-e.s.opts.Draining:
			// The gateway is shutting down: end the stream cleanly; an EventSource reconnects,
			// through the load balancer, to a gateway that is still serving.
			return nil
		case <-heartbeat.C:
			if send(func(w io.Writer) error { _, err := fmt.Fprint(w, ": heartbeat\n\n"); return err }) != nil {
				return nil
			}
		case <-done:
			// The run's Describe may take up to the Temporal timeout: over HTTP/2 a write
			// deadline that passes meanwhile resets the stream before its last event.
			_ = rc.SetWriteDeadline(time.Now().Add(e.s.opts.TemporalTimeout + 10*time.Second))
			final, err := result(e.ctx)
			if err != nil && e.ctx.Err() != nil {
				return nil // the client left
			}
			if err != nil {
				e.s.opts.Logger.WarnContext(e.ctx, "event stream ended early", "error", err, "request_id", requestID(e.ctx))
				_ = send(func(w io.Writer) error {
					_, err := fmt.Fprint(w, "event: error\ndata: {\"title\":\"The execution can no longer be watched\"}\n\n")
					return err
				})
				return nil
			}
			_ = event(final)
			return nil
		}
	}
}

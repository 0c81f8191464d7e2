package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/temporalhttp/gateway/internal/telemetry"
)

// requestID returns the id the gateway gave the request, or "".
func requestID(ctx context.Context) string { return telemetry.RequestID(ctx) }

// withRequestID gives every request an id, taken from a well-formed X-Request-Id header or made
// anew, and returns it in the response so that a client can quote it. The telemetry log handler
// puts it on every line the request logs.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(telemetry.WithRequestID(r.Context(), id)))
	})
}

// validRequestID accepts short ids of visible ASCII, so a caller cannot forge log lines with it.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushing, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog logs one line per request with its route, status and duration.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			route := chi.RouteContext(r.Context()).RoutePattern()
			// The route's {workflowId}, or the id a start generated or derived from its
			// Idempotency-Key, which the handler recorded.
			workflowID := telemetry.WorkflowID(r.Context())
			logRequest(logger, r, route, workflowID, rec.status, start)
		})
	}
}

// logRequest writes the access log line of a request answered with status after start.
func logRequest(logger *slog.Logger, r *http.Request, route, workflowID string, status int, start time.Time) {
	attrs := []any{
		"method", r.Method, "route", route, "status", status,
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"request_id", requestID(r.Context()),
		"client_ip", clientIP(r.Context()),
	}
	if workflowID != "" {
		attrs = append(attrs, "workflow_id", workflowID)
	}
	if name := principalName(r.Context()); name != "" {
		attrs = append(attrs, "principal", name)
	}
	level := slog.LevelInfo
	if telemetry.ProbeRoutes[route] && status == http.StatusOK {
		level = slog.LevelDebug
	}
	logger.Log(r.Context(), level, "http request", attrs...)
}

// recoverPanics answers a panicking handler with a problem and logs the stack, so one bad request
// neither kills the process nor shows its internals.
func recoverPanics(pw problemWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				pw.writeError(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody refuses bodies over max bytes: at once when Content-Length says so, and while reading
// otherwise.
func limitBody(pw problemWriter, max int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				pw.writeError(w, r, &http.MaxBytesError{Limit: max})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// requireJSON refuses every POST that is not application/json, with a body or without. A browser
// sends a POST to another origin without asking first (a CORS preflight) only when it has no body
// or a form or text/plain one. Refusing those before any handler runs means that no web page can
// terminate, cancel or signal anything through its visitor's browser, not even on an open
// gateway, where no credential would stop it.
func requireJSON(pw problemWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && !isJSON(r.Header.Get("Content-Type")) {
				pw.writeError(w, r, unsupportedMediaType())
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// strictJSON refuses a JSON body that is not exactly one JSON value, that is not UTF-8, or that
// gives an object the same key twice. The validator and the generated decoder stop after the first
// value, so `{...} trailing` would otherwise pass; they replace invalid UTF-8 silently; and they keep
// the last of two equal keys, while another reader of the same bytes (a proxy, a log, an
// Idempotency-Key fingerprint taken before decoding) may keep the first. Refusing such bodies
// before anything reads them leaves one meaning to every body the gateway accepts.
func strictJSON(pw problemWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || !isJSON(r.Header.Get("Content-Type")) {
				next.ServeHTTP(w, r)
				return
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				var tooLarge *http.MaxBytesError
				if !errors.As(err, &tooLarge) && !errors.Is(err, os.ErrDeadlineExceeded) {
					// Broken chunked framing, or a client that left mid-body: the caller's doing.
					err = malformedJSONBecause("The request body could not be read to its end.")
				}
				pw.writeError(w, r, err)
				return
			}
			if len(bytes.TrimSpace(body)) > 0 {
				switch {
				case !json.Valid(body):
					pw.writeError(w, r, malformedJSON())
					return
				case !utf8.Valid(body):
					pw.writeError(w, r, malformedJSONBecause("The request body is not valid UTF-8."))
					return
				}
				if key, ok := duplicateKey(body); ok {
					pw.writeError(w, r, malformedJSONBecause(fmt.Sprintf(
						"The request body gives an object the key %s twice; each key may appear once.", quoteShort(key))))
					return
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		})
	}
}

// duplicateKey finds a key that appears twice in one object of a valid JSON document. Keys are
// compared as decoded, so "a" and "\u0061" are the same key. It scans bytes rather than tokens:
// a large body of numbers costs no allocation per value.
func duplicateKey(body []byte) (string, bool) {
	type level struct {
		object, expectKey bool
		keys              map[string]struct{}
	}
	var stack []level
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, level{object: true, expectKey: true})
		case '[':
			stack = append(stack, level{})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; top >= 0 && stack[top].object {
				stack[top].expectKey = true
			}
		case '"':
			end := i + 1
			for ; body[end] != '"'; end++ {
				if body[end] == '\\' {
					end++ // the escaped character, which may be a quote
				}
			}
			if top := len(stack) - 1; top >= 0 && stack[top].expectKey {
				key := string(body[i+1 : end])
				if strings.IndexByte(key, '\\') >= 0 {
					_ = json.Unmarshal(body[i:end+1], &key) // valid JSON: it decodes
				}
				if _, twice := stack[top].keys[key]; twice {
					return key, true
				}
				if stack[top].keys == nil {
					stack[top].keys = map[string]struct{}{}
				}
				stack[top].keys[key] = struct{}{}
				stack[top].expectKey = false
			}
			i = end
		}
	}
	return "", false
}

// isJSON says whether a Content-Type is JSON, which media types are whatever their case
// (RFC 9110 8.3.1), as the request validator compares them.
func isJSON(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && mediaType == "application/json"
}

// quoteShort quotes a string from a request for a problem's detail, cut to a readable length.
func quoteShort(s string) string {
	const limit = 64
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return strconv.Quote(s)
}

// joinPrefer folds several Prefer header lines into one, as RFC 9110 (5.3) allows for a list
// field: RFC 7240 lets a client send its preferences either way, and the generated binding
// takes one line only.
func joinPrefer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Values("Prefer"); len(v) > 1 {
			r.Header.Set("Prefer", strings.Join(v, ", "))
		}
		next.ServeHTTP(w, r)
	})
}

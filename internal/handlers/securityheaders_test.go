package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/handlers"
)

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	want := map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "no-referrer",
		"Content-Security-Policy":    "default-src 'none'; frame-ancestors 'none'",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	large := `{"workflowType":"Echo","input":"` + strings.Repeat("a", 4096) + `"}`
	const limitedClient = "198.51.100.99:1"
	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
	}{
		{"health", func() *http.Request { return newRequest(http.MethodGet, "/healthz", "") }, http.StatusOK},
		{"spec", func() *http.Request { return newRequest(http.MethodGet, "/openapi.yaml", "") }, http.StatusOK},
		{"start", func() *http.Request {
			return newRequest(http.MethodPost, "/workflows", `{"workflowType":"Greeting","input":{"name":"Ada"}}`)
		}, http.StatusCreated},
		{"not found", func() *http.Request { return newRequest(http.MethodGet, "/nothing", "") }, http.StatusNotFound},
		{"method not allowed", func() *http.Request { return newRequest(http.MethodDelete, "/workflows", "") }, http.StatusMethodNotAllowed},
		{"invalid", func() *http.Request { return newRequest(http.MethodPost, "/workflows", `{}`) }, http.StatusBadRequest},
		{"too large", func() *http.Request { return newRequest(http.MethodPost, "/workflows", large) }, http.StatusRequestEntityTooLarge},
		{"preflight", func() *http.Request {
			return preflight("/workflows", "https://app.example.com", "POST", "content-type")
		}, http.StatusOK},
		{"rate limited", func() *http.Request { return from(limitedClient, "/workflow-types") }, http.StatusTooManyRequests},
	}
	for _, hsts := range []bool{false, true} {
		t.Run(fmt.Sprintf("hsts %v", hsts), func(t *testing.T) {
			h := newRouter(t, &fakeTemporal{}, withCORS("https://app.example.com"), withRateLimit(1, time.Minute),
				func(o *handlers.Options) { o.MaxBodyBytes = 1024; o.HSTS = hsts })
			require.Equal(t, http.StatusOK, serve(h, from(limitedClient, "/workflow-types")).Code)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					req := tt.req()
					if req.RemoteAddr != limitedClient {
						req.RemoteAddr = fmt.Sprintf("198.51.100.%d:1", i+1) // a client of its own
					}
					rec := serve(h, req)

					require.Equal(t, tt.wantStatus, rec.Code, "body: %s", rec.Body)
					for name, value := range want {
						assert.Equal(t, value, rec.Header().Get(name), name)
					}
					if hsts {
						assert.Equal(t, "max-age=31536000", rec.Header().Get("Strict-Transport-Security"))
					} else {
						assert.Empty(t, rec.Header().Get("Strict-Transport-Security"), "HSTS only when configured")
					}
				})
			}
		})
	}
}

func TestAccessLogNamesTheClient(t *testing.T) {
	var logs bytes.Buffer
	h := newRouter(t, &fakeTemporal{}, withTrustedProxies("10.0.0.0/8"), func(o *handlers.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	serve(h, from("198.51.100.7:40000", "/workflow-types", "203.0.113.9"))
	serve(h, from("10.1.2.3:5000", "/workflow-types", "203.0.113.9, 198.51.100.8"))

	var clients []string
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var entry struct {
			Msg      string `json:"msg"`
			ClientIP string `json:"client_ip"`
		}
		require.NoError(t, json.Unmarshal(line, &entry), "%s", line)
		if entry.Msg == "http request" {
			clients = append(clients, entry.ClientIP)
		}
	}
	assert.Equal(t, []string{"198.51.100.7", "198.51.100.8"}, clients)
}

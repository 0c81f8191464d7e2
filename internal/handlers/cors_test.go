package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/handlers"
)

// withCORS configures the allowed origins and a 10-minute preflight cache.
func withCORS(origins ...string) func(*handlers.Options) {
	return func(o *handlers.Options) {
		o.CORSAllowedOrigins = origins
		o.CORSMaxAge = 10 * time.Minute
	}
}

func preflight(target, origin, method, headers string) *http.Request {
	req := newRequest(http.MethodOptions, target, "")
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	return req
}

func TestCORSPreflight(t *testing.T) {
	tests := []struct {
		name        string
		origins     []string
		target      string
		origin      string
		method      string
		headers     string
		wantAllowed bool
	}{
		{"start from an allowed origin", []string{"https://app.example.com"}, "/workflows", "https://app.example.com", "POST",
			"content-type,x-api-key,idempotency-key,authorization,x-request-id", true},
		{"read with revalidation", []string{"https://app.example.com"}, "/workflows/order-1", "https://app.example.com", "GET",
			"if-none-match", true},
		{"event stream resumption", []string{"https://app.example.com"}, "/workflows/order-1/events", "https://app.example.com", "GET",
			"last-event-id", true},
		{"route with path parameters", []string{"https://app.example.com"}, "/workflows/order-1/signals/approve", "https://app.example.com", "POST",
			"content-type", true},
		{"schedule update with its ETag", []string{"https://app.example.com"}, "/schedules/nightly", "https://app.example.com", "PUT",
			"content-type,if-match", true},
		{"schedule delete", []string{"https://app.example.com"}, "/schedules/nightly", "https://app.example.com", "DELETE", "", true},
		{"subdomain pattern", []string{"https://*.example.com"}, "/workflows", "https://ops.eu.example.com", "POST", "content-type", true},
		{"any origin", []string{"*"}, "/workflows", "https://anything.example.net", "POST", "content-type", true},
		{"origin not listed", []string{"https://app.example.com"}, "/workflows", "https://evil.example.net", "POST", "content-type", false},
		{"pattern does not match the bare domain", []string{"https://*.example.com"}, "/workflows", "https://example.com", "POST", "content-type", false},
		{"other scheme", []string{"https://app.example.com"}, "/workflows", "http://app.example.com", "POST", "content-type", false},
		{"method not allowed", []string{"https://app.example.com"}, "/workflows", "https://app.example.com", "PATCH", "", false},
		{"header not allowed", []string{"https://app.example.com"}, "/workflows", "https://app.example.com", "POST", "content-type,x-secret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake, withCORS(tt.origins...)), preflight(tt.target, tt.origin, tt.method, tt.headers))

			// The preflight is answered before routing: never 405 (the API has no OPTIONS
			// routes), never an authentication problem, never a call to Temporal.
			assert.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
			assert.Empty(t, rec.Body.String())
			assert.Empty(t, fake.startCalls())
			if !tt.wantAllowed {
				assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), "the browser must refuse this")
				return
			}
			wantOrigin := tt.origin
			if tt.origins[0] == "*" {
				wantOrigin = "*"
			}
			assert.Equal(t, wantOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
			assert.Equal(t, tt.method, rec.Header().Get("Access-Control-Allow-Methods"))
			assert.Equal(t, "600", rec.Header().Get("Access-Control-Max-Age"))
			assert.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"), "auth is by header, never by cookie")
			if tt.headers != "" {
				assert.Equal(t, strings.ReplaceAll(tt.headers, ",", ", "), strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")))
			}
		})
	}
}

func TestCORSOffLeavesOptionsToTheRouter(t *testing.T) {
	rec := serve(newRouter(t, &fakeTemporal{}), preflight("/workflows", "https://app.example.com", "POST", "content-type"))

	requireProblem(t, rec, "urn:temporal-http:problem:method-not-allowed")
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestCORSActualRequest(t *testing.T) {
	tests := []struct {
		name       string
		origins    []string
		target     string
		origin     string
		wantStatus int
		wantOrigin string
	}{
		{"answer", []string{"https://app.example.com"}, "/workflow-types", "https://app.example.com", http.StatusOK, "https://app.example.com"},
		{"problem", []string{"https://app.example.com"}, "/no-such-thing", "https://app.example.com", http.StatusNotFound, "https://app.example.com"},
		{"origin not listed", []string{"https://app.example.com"}, "/workflow-types", "https://evil.example.net", http.StatusOK, ""},
		{"cors off", nil, "/workflow-types", "https://app.example.com", http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(http.MethodGet, tt.target, "")
			req.Header.Set("Origin", tt.origin)
			rec := serve(newRouter(t, &fakeTemporal{}, withCORS(tt.origins...)), req)

			require.Equal(t, tt.wantStatus, rec.Code, "body: %s", rec.Body)
			assert.Equal(t, tt.wantOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
			if tt.wantOrigin == "" {
				assert.Empty(t, rec.Header().Get("Access-Control-Expose-Headers"))
				return
			}
			assert.Contains(t, rec.Header().Values("Vary"), "Origin", "a cache must not serve one origin's answer to another")
			exposed := strings.Split(rec.Header().Get("Access-Control-Expose-Headers"), ", ")
			assert.ElementsMatch(t, []string{"Location", "Etag", "Retry-After", "Idempotent-Replayed", "Preference-Applied", "X-Request-Id", "Www-Authenticate"}, exposed)
		})
	}
}

func TestCORSLetsAPageReadARateLimit(t *testing.T) {
	h := newRouter(t, &fakeTemporal{}, withCORS("https://app.example.com"), withRateLimit(1, time.Minute))
	var rec = serve(h, newRequest(http.MethodGet, "/workflow-types", ""))
	require.Equal(t, http.StatusOK, rec.Code)

	req := newRequest(http.MethodGet, "/workflow-types", "")
	req.Header.Set("Origin", "https://app.example.com")
	rec = serve(h, req)

	requireProblem(t, rec, "urn:temporal-http:problem:rate-limited")
	assert.Equal(t, "https://app.example.com", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, rec.Header().Get("Access-Control-Expose-Headers"), "Retry-After")
}

package handlers_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/handlers"
)

// TestHostsOfAnOpenGateway addresses requests to many Host names, as a DNS-rebinding page (its
// own name, pointed at the gateway) and honest clients would: an API request is answered only
// for a loopback name or an allowed one, and refused with a 421 problem before it reaches
// Temporal otherwise; the public routes are answered under any name.
func TestHostsOfAnOpenGateway(t *testing.T) {
	tests := []struct {
		name     string
		restrict bool
		allowed  []string
		host     string
		served   bool
	}{
		{"loopback address with a port", true, nil, "127.0.0.1:8080", true},
		{"another loopback address", true, nil, "127.0.0.2", true},
		{"localhost", true, nil, "localhost:3000", true},
		{"localhost in capitals, fully qualified", true, nil, "LOCALHOST.:3000", true},
		{"IPv6 loopback with a port", true, nil, "[::1]:8080", true},
		{"IPv6 loopback", true, nil, "[::1]", true},
		{"a rebound name", true, nil, "rebind.test:8080", false},
		{"a name that resolves to loopback", true, nil, "127.0.0.1.nip.io:8080", false},
		{"a subdomain of localhost", true, nil, "app.localhost:8080", false},
		{"another address", true, nil, "10.0.0.5:8080", false},
		{"the unspecified address", true, nil, "0.0.0.0:8080", false},
		{"no host", true, nil, "", false},
		{"an allowed name", true, []string{"gateway.internal"}, "gateway.internal:443", true},
		{"an allowed name in capitals", true, []string{"gateway.internal"}, "Gateway.Internal", true},
		{"an allowed address", true, []string{"10.0.0.5"}, "10.0.0.5:8080", true},
		{"not among the allowed", true, []string{"gateway.internal"}, "rebind.test", false},
		// GATEWAY_ALLOWED_HOSTS holds an IP address in its canonical form; a Host header may spell
		// it otherwise.
		{"an allowed IPv6 address, spelt out", true, []string{"fe80::1"}, "[fe80:0::1]:8080", true},
		{"an allowed IPv6 address, spelt out in full and in capitals", true, []string{"fe80::1"}, "[FE80:0:0:0:0:0:0:1]", true},
		{"an allowed IPv6 address, with a zone", true, []string{"fe80::1"}, "[fe80::1%25eth0]:8080", false},
		{"another IPv6 address", true, []string{"fe80::1"}, "[fe80::2]", false},
		{"an allowed IPv4-mapped IPv6 address, spelt out", true, []string{"::ffff:10.0.0.5"}, "[::FFFF:a00:5]", true},
		{"IPv6 loopback, spelt out in full", true, nil, "[0:0:0:0:0:0:0:1]:8080", true},
		{"not restricted", false, nil, "rebind.test:8080", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: []*fakeExecution{runningRun()}}
			h := newRouter(t, fake, func(o *handlers.Options) { o.RestrictHosts, o.AllowedHosts = tt.restrict, tt.allowed })
			for _, req := range []*http.Request{
				newRequest(http.MethodGet, "/workflow-types", ""),
				newRequest(http.MethodGet, "/workflows/approval-1", ""),
				newRequest(http.MethodPost, "/workflows/approval-1/terminate", "{}"),
				newRequest(http.MethodOptions, "/workflows/approval-1/terminate", ""),
				newRequest(http.MethodGet, "/no-such-path", ""),
			} {
				req.Host = tt.host
				rec := serve(h, req)
				if tt.served {
					assert.NotEqual(t, http.StatusMisdirectedRequest, rec.Code, "%s %s: %s", req.Method, req.URL, rec.Body)
					continue
				}
				requireProblem(t, rec, "urn:temporal-http:problem:misdirected-request")
			}
			if !tt.served {
				assert.Empty(t, fake.lifecycle, "a refused request reached Temporal")
				assert.Empty(t, fake.describeCalls(), "a refused request reached Temporal")
			}
			for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml", "/docs", "/docs/docs.js"} {
				req := newRequest(http.MethodGet, path, "")
				req.Host = tt.host
				rec := serve(h, req)
				require.NotEqual(t, http.StatusMisdirectedRequest, rec.Code, "%s is public under any host", path)
			}
		})
	}
}

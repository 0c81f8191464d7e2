package handlers_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/handlers"
)

func withRateLimit(requests int, window time.Duration) func(*handlers.Options) {
	return func(o *handlers.Options) {
		o.RateLimit = requests
		o.RateLimitWindow = window
	}
}

func withTrustedProxies(prefixes ...string) func(*handlers.Options) {
	return func(o *handlers.Options) {
		for _, p := range prefixes {
			o.TrustedProxies = append(o.TrustedProxies, netip.MustParsePrefix(p))
		}
	}
}

// from makes a GET of target from the peer at remote, with X-Forwarded-For entries when given.
func from(remote, target string, forwardedFor ...string) *http.Request {
	req := newRequest(http.MethodGet, target, "")
	req.RemoteAddr = remote
	for _, f := range forwardedFor {
		req.Header.Add("X-Forwarded-For", f)
	}
	return req
}

// requireLimited checks that rec is a 429 problem telling the client to wait wantRetryAfter seconds.
func requireLimited(t *testing.T, rec interface {
	Result() *http.Response
}, wantRetryAfter int) {
	t.Helper()
	resp := rec.Result()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, strconv.Itoa(wantRetryAfter), resp.Header.Get("Retry-After"))
}

func TestRateLimit(t *testing.T) {
	// Two requests a minute: a token comes back every 30 s, so a refused client is told 30.
	h := newRouter(t, &fakeTemporal{}, withRateLimit(2, time.Minute))
	const client = "198.51.100.7:40000"
	for i := range 2 {
		rec := serve(h, from(client, "/workflow-types"))
		require.Equal(t, http.StatusOK, rec.Code, "request %d: %s", i+1, rec.Body)
	}

	rec := serve(h, from(client, "/workflow-types"))
	requireProblem(t, rec, "urn:temporal-http:problem:rate-limited")
	requireLimited(t, rec, 30)
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

	t.Run("counts every route, whatever the status", func(t *testing.T) {
		requireLimited(t, serve(h, from(client, "/no-such-thing")), 30)
		requireLimited(t, serve(h, from("198.51.100.7:40001", "/workflows/order-1")), 30)
	})
	t.Run("a spoofed X-Forwarded-For from an untrusted peer changes nothing", func(t *testing.T) {
		for _, spoof := range []string{"203.0.113.9", "203.0.113.10, 10.0.0.1", "::1"} {
			requireLimited(t, serve(h, from(client, "/workflow-types", spoof)), 30)
		}
	})
	t.Run("another client has its own allowance", func(t *testing.T) {
		rec := serve(h, from("198.51.100.8:40000", "/workflow-types"))
		assert.Equal(t, http.StatusOK, rec.Code)
	})
	t.Run("operational endpoints are never limited", func(t *testing.T) {
		for _, target := range []string{"/healthz", "/readyz", "/metrics"} {
			for range 3 {
				rec := serve(h, from(client, target))
				assert.NotEqual(t, http.StatusTooManyRequests, rec.Code, target)
			}
		}
	})
}

func TestRateLimitCountsAnIPv6ClientByItsSlash64(t *testing.T) {
	h := newRouter(t, &fakeTemporal{}, withRateLimit(1, time.Minute))
	require.Equal(t, http.StatusOK, serve(h, from("[2001:db8:1:2::1]:40000", "/workflow-types")).Code)

	requireLimited(t, serve(h, from("[2001:db8:1:2:ffff::9]:40000", "/workflow-types")), 60)
	assert.Equal(t, http.StatusOK, serve(h, from("[2001:db8:1:3::1]:40000", "/workflow-types")).Code)
}

func TestRateLimitBelievesOnlyTrustedProxies(t *testing.T) {
	h := newRouter(t, &fakeTemporal{}, withRateLimit(1, time.Minute), withTrustedProxies("10.0.0.0/8"))
	const proxy = "10.1.2.3:5000"

	// Behind the proxy, each client has its own allowance.
	require.Equal(t, http.StatusOK, serve(h, from(proxy, "/workflow-types", "198.51.100.7")).Code)
	require.Equal(t, http.StatusOK, serve(h, from(proxy, "/workflow-types", "198.51.100.8")).Code)
	requireLimited(t, serve(h, from(proxy, "/workflow-types", "198.51.100.7")), 60)

	// The proxy appends the address it saw: what the client wrote in front is not believed.
	requireLimited(t, serve(h, from(proxy, "/workflow-types", "203.0.113.50, 198.51.100.7")), 60)
	// An untrusted peer is the client, whatever it claims.
	require.Equal(t, http.StatusOK, serve(h, from("192.0.2.44:1", "/workflow-types", "198.51.100.9")).Code)
	requireLimited(t, serve(h, from("192.0.2.44:1", "/workflow-types", "198.51.100.10")), 60)
}

func TestRateLimitOff(t *testing.T) {
	h := newRouter(t, &fakeTemporal{})
	for i := range 50 {
		rec := serve(h, from("198.51.100.7:40000", "/workflow-types"))
		require.Equal(t, http.StatusOK, rec.Code, "request %d", i+1)
	}
}

func TestRateLimitRetryAfterIsWhenTheNextRequestPasses(t *testing.T) {
	// Two requests per two seconds: one token a second. Retry-After is rounded up to whole seconds,
	// so waiting what it says always suffices.
	h := newRouter(t, &fakeTemporal{}, withRateLimit(2, 2*time.Second))
	const client = "198.51.100.7:40000"
	for range 2 {
		require.Equal(t, http.StatusOK, serve(h, from(client, "/workflow-types")).Code)
	}
	rec := serve(h, from(client, "/workflow-types"))
	requireLimited(t, rec, 1)

	time.Sleep(time.Second)
	assert.Equal(t, http.StatusOK, serve(h, from(client, "/workflow-types")).Code, "Retry-After promised a token by now")
	requireLimited(t, serve(h, from(client, "/workflow-types")), 1)
}

package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/telemetry"
)

// serveHealth runs ServeMetrics with ready on a loopback port and returns its address.
func serveHealth(t *testing.T, ready func(context.Context) error) string {
	t.Helper()
	tel := newTelemetry(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- tel.ServeMetrics(ctx, ln, ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("ServeMetrics did not return when its context ended")
		}
	})
	return ln.Addr().String()
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestServeMetricsAnswersHealthAndReadiness(t *testing.T) {
	// Set by the test, read by the handler: atomics, as nothing else orders them.
	var temporalDown atomic.Pointer[error]
	var gotDeadline atomic.Bool
	addr := serveHealth(t, func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		gotDeadline.Store(ok)
		if err := temporalDown.Load(); err != nil {
			return *err
		}
		return nil
	})

	status, contentType, body := get(t, "http://"+addr+"/healthz")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "application/json", contentType)
	assert.JSONEq(t, `{"status":"ok"}`, body)

	status, _, body = get(t, "http://"+addr+"/readyz")
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"status":"ok"}`, body)
	assert.True(t, gotDeadline.Load(), "the readiness check is bounded in time")

	down := errors.New("dial tcp 10.0.0.1:7233: connection refused")
	temporalDown.Store(&down)
	status, contentType, body = get(t, "http://"+addr+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "application/problem+json", contentType)
	assert.JSONEq(t, `{"type":"urn:temporal-http:problem:temporal-unavailable","title":"Temporal unavailable",
		"status":503,"detail":"Temporal cannot be reached right now."}`, body)
	assert.NotContains(t, body, "10.0.0.1", "the cause stays in the log")

	status, _, _ = get(t, "http://"+addr+"/healthz")
	assert.Equal(t, http.StatusOK, status, "alive while Temporal is down")
	status, _, _ = get(t, "http://"+addr+"/metrics")
	assert.Equal(t, http.StatusOK, status, "metrics are still served")
}

func TestProbeHealth(t *testing.T) {
	var ready atomic.Pointer[error]
	addr := serveHealth(t, func(context.Context) error {
		if err := ready.Load(); err != nil {
			return *err
		}
		return nil
	})
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)

	// The probe is given the listen address as configured, which is often a wildcard.
	for _, listen := range []string{addr, ":" + port, "0.0.0.0:" + port, "[::]:" + port} {
		t.Run(listen, func(t *testing.T) {
			assert.NoError(t, telemetry.ProbeHealth(t.Context(), listen, "/readyz"))
			assert.NoError(t, telemetry.ProbeHealth(t.Context(), listen, "/healthz"))
		})
	}

	down := errors.New("temporal down")
	ready.Store(&down)
	err = telemetry.ProbeHealth(t.Context(), ":"+port, "/readyz")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "503")
	assert.NoError(t, telemetry.ProbeHealth(t.Context(), ":"+port, "/healthz"), "liveness does not depend on Temporal")

	t.Run("an HTTP proxy is never asked", func(t *testing.T) {
		t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
		t.Setenv("http_proxy", "http://127.0.0.1:1")
		t.Setenv("NO_PROXY", "")
		t.Setenv("no_proxy", "")
		assert.NoError(t, telemetry.ProbeHealth(t.Context(), ":"+port, "/healthz"))
	})
}

func TestProbeHealthFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())

	err = telemetry.ProbeHealth(t.Context(), ":"+closedPort, "/readyz")
	require.Error(t, err, "nothing listens")
	assert.Contains(t, err.Error(), "127.0.0.1:"+closedPort)

	err = telemetry.ProbeHealth(t.Context(), "8080", "/readyz")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `listen address "8080"`)

	// A server that accepts but never answers: the probe gives up on its own.
	stalled, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer stalled.Close()
	start := time.Now()
	err = telemetry.ProbeHealth(t.Context(), stalled.Addr().String(), "/readyz")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
}

// TestHealthCacheSharesOneCheck fires many concurrent probes at a cache whose check is held open:
// one check runs, every probe gets its result, and the result answers later probes until it is
// ttl old; a failure is shared the same way.
func TestHealthCacheSharesOneCheck(t *testing.T) {
	down := errors.New("temporal down")
	for _, tc := range []struct {
		name   string
		result error
	}{
		{"healthy", nil},
		{"unhealthy", down},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var checks atomic.Int32
			release := make(chan struct{})
			cache := telemetry.NewHealthCache(func(context.Context) error {
				checks.Add(1)
				<-release
				return tc.result
			}, time.Hour, 5*time.Second)

			const probes = 200
			results := make(chan error, probes)
			for range probes {
				go func() { results <- cache.Check(t.Context()) }()
			}
			// The probes have all arrived once they are all waiting; then let the check answer.
			time.Sleep(100 * time.Millisecond)
			close(release)
			for range probes {
				assert.Equal(t, tc.result, <-results)
			}
			assert.Equal(t, tc.result, cache.Check(t.Context()), "answered from the cache")
			assert.Equal(t, int32(1), checks.Load(), "one check for every probe")
		})
	}
}

// TestHealthCacheChecksAgainOnceStale: with a result that is stale at once, each probe checks anew.
func TestHealthCacheChecksAgainOnceStale(t *testing.T) {
	var checks atomic.Int32
	cache := telemetry.NewHealthCache(func(context.Context) error { checks.Add(1); return nil }, time.Nanosecond, time.Second)
	for range 3 {
		time.Sleep(time.Millisecond)
		require.NoError(t, cache.Check(t.Context()))
	}
	assert.Equal(t, int32(3), checks.Load())
}

// TestHealthCacheProbeThatLeaves: a probe that gives up gets its own context's error, while the
// check it started goes on, bounded by the cache's timeout rather than by that probe, and answers
// the probes that wait for it.
func TestHealthCacheProbeThatLeaves(t *testing.T) {
	release := make(chan struct{})
	var sawDeadline atomic.Bool
	cache := telemetry.NewHealthCache(func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		sawDeadline.Store(ok)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, time.Hour, 5*time.Second)

	impatient, cancel := context.WithCancel(t.Context())
	left := make(chan error, 1)
	go func() { left <- cache.Check(impatient) }()
	time.Sleep(50 * time.Millisecond)
	patient := make(chan error, 1)
	go func() { patient <- cache.Check(t.Context()) }()
	cancel()
	assert.ErrorIs(t, <-left, context.Canceled)
	close(release)
	assert.NoError(t, <-patient, "the check outlived the probe that started it")
	assert.True(t, sawDeadline.Load(), "the check is bounded in time")
}

// TestHealthCacheCheckThatPanics: a panicking check fails the probes, and the process lives.
func TestHealthCacheCheckThatPanics(t *testing.T) {
	cache := telemetry.NewHealthCache(func(context.Context) error { panic("boom") }, time.Hour, time.Second)
	err := cache.Check(t.Context())
	require.ErrorIs(t, err, telemetry.ErrHealthCheckPanicked)
	assert.Contains(t, err.Error(), "boom")
}

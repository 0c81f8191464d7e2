package handlers_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
)

// parkedGateway serves the router as the gateway does: with telemetry, a count of parked waits
// and a draining signal. Its access log is kept.
type parkedGateway struct {
	fake     *longPollFake
	srv      *httptest.Server
	parked   *sync.WaitGroup
	draining chan struct{}
	h        http.Handler
	logMu    sync.Mutex
	log      bytes.Buffer
}

func (g *parkedGateway) Write(p []byte) (int, error) {
	g.logMu.Lock()
	defer g.logMu.Unlock()
	return g.log.Write(p)
}

// accessLog is the access log lines written so far.
func (g *parkedGateway) accessLog(t *testing.T) []map[string]any {
	t.Helper()
	g.logMu.Lock()
	defer g.logMu.Unlock()
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(g.log.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "http request" {
			lines = append(lines, m)
		}
	}
	return lines
}

func newParkedGateway(t *testing.T, opts ...func(*handlers.Options)) *parkedGateway {
	t.Helper()
	g := &parkedGateway{fake: newLongPollFake(), parked: &sync.WaitGroup{}, draining: make(chan struct{})}
	g.h = newRouter(t, g.fake, append([]func(*handlers.Options){withTelemetry(newTelemetry(t)), func(o *handlers.Options) {
		o.ParkedWaits = g.parked
		o.Draining = g.draining
		o.Logger = slog.New(slog.NewJSONHandler(g, nil))
	}}, opts...)...)
	g.srv = httptest.NewServer(g.h)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *parkedGateway) get(t *testing.T, target string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, g.srv.URL+target, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// parkedCount waits for the parked waits to be answered and fails if they are not.
func requireAllAnswered(t *testing.T, parked *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		parked.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("parked waits still unanswered")
	}
}

func TestParkedWaitIsAnsweredWhenTheRunCloses(t *testing.T) {
	g := newParkedGateway(t)
	const readers = 20
	var wg sync.WaitGroup
	resps := make([]*http.Response, readers)
	bodies := make([][]byte, readers)
	for i := range readers {
		wg.Go(func() {
			resps[i], bodies[i] = g.get(t, "/workflows/sleep-1?runId=01a2110d-1b69-77ad-9897-000000000001&wait=30s", "X-Request-Id", fmt.Sprintf("reader-%d", i))
		})
	}
	require.Eventually(t, func() bool { return g.fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		return scrape(t, g.h)["gateway_http_requests_in_flight"]["method=GET,route=/workflows/{workflowId}"] == readers
	}, 5*time.Second, 10*time.Millisecond, "every reader is in flight")
	time.Sleep(100 * time.Millisecond) // from in flight to parked takes microseconds
	inFlight := scrape(t, g.h)["gateway_http_requests_in_flight"]["method=GET,route=/workflows/{workflowId}"]
	assert.Equal(t, float64(readers), inFlight, "parked reads stay in flight")
	g.fake.complete()
	wg.Wait()

	for i, resp := range resps {
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", bodies[i])
		assert.True(t, resp.Close, "a parked answer closes its connection")
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.NotEmpty(t, resp.Header.Get("ETag"))
		assert.Equal(t, "private, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
		assert.Equal(t, fmt.Sprintf("reader-%d", i), resp.Header.Get("X-Request-Id"), "headers the middlewares set are sent")
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		e := decode(t, bodies[i])
		assert.Equal(t, gen.ExecutionStatusCOMPLETED, e.Status)
		assert.JSONEq(t, `{"sleptSeconds":2}`, string(*e.Result))
	}
	requireAllAnswered(t, g.parked)
	assert.Equal(t, int32(1), g.fake.longPolls.Load())

	metrics := scrape(t, g.h)
	assert.Zero(t, metrics["gateway_http_requests_in_flight"]["method=GET,route=/workflows/{workflowId}"])
	assert.Equal(t, float64(readers), metrics["gateway_http_requests_total"]["method=GET,route=/workflows/{workflowId},status=200"])
	var logged int
	for _, line := range g.accessLog(t) {
		if line["route"] == "/workflows/{workflowId}" {
			logged++
			assert.Equal(t, float64(200), line["status"])
			assert.Greater(t, line["duration_ms"], float64(50), "logged when answered, not when parked")
			assert.Equal(t, "sleep-1", line["workflow_id"])
		}
	}
	assert.Equal(t, readers, logged)
}

func TestParkedWaitThatPassesAnswersAFreshRead(t *testing.T) {
	g := newParkedGateway(t)
	resp, body := g.get(t, "/workflows/sleep-1?wait=200ms")
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	assert.True(t, resp.Close)
	e := decode(t, body)
	assert.Equal(t, gen.ExecutionStatusRUNNING, e.Status)
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	assert.Len(t, g.fake.describeCalls(), 2, "read when it came and when its wait passed")
	assert.Eventually(t, func() bool { return g.fake.canceled.Load() == 1 }, time.Second, time.Millisecond,
		"the last waiter to leave ends the long poll")

	// The same execution, with its tag: 304 without a body.
	resp, body = g.get(t, "/workflows/sleep-1?wait=100ms", "If-None-Match", resp.Header.Get("ETag"))
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	assert.Empty(t, body)
	assert.NotEmpty(t, resp.Header.Get("ETag"))
	requireAllAnswered(t, g.parked)
}

func TestParkedWaitWhoseReadFailsIsAProblem(t *testing.T) {
	g := newParkedGateway(t)
	go func() {
		require.Eventually(t, func() bool { return g.fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond)
		g.fake.mu.Lock()
		g.fake.describeErr = serviceerror.NewUnavailable(secret)
		g.fake.mu.Unlock()
	}()
	resp, body := g.get(t, "/workflows/sleep-1?wait=300ms")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "body: %s", body)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.NotContains(t, string(body), secret)
	requireAllAnswered(t, g.parked)
}

func TestParkedWaitOfAClientThatHangsUpIsReleased(t *testing.T) {
	g := newParkedGateway(t)
	conn, err := net.Dial("tcp", g.srv.Listener.Addr().String())
	require.NoError(t, err)
	fmt.Fprintf(conn, "GET /workflows/sleep-1?wait=30s HTTP/1.1\r\nHost: gateway\r\n\r\n")
	require.Eventually(t, func() bool { return g.fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, conn.Close())
	assert.Eventually(t, func() bool { return g.fake.canceled.Load() == 1 }, 2*time.Second, time.Millisecond,
		"the long poll ends when its only waiter hangs up")
	requireAllAnswered(t, g.parked)
	assert.Eventually(t, func() bool {
		return scrape(t, g.h)["gateway_http_requests_in_flight"]["method=GET,route=/workflows/{workflowId}"] == 0
	}, time.Second, 10*time.Millisecond)
}

func TestParkedWaitsAreAnsweredWhenTheGatewayDrains(t *testing.T) {
	g := newParkedGateway(t)
	type answer struct {
		resp *http.Response
		body []byte
	}
	answers := make(chan answer, 2)
	for range 2 {
		go func() {
			resp, body := g.get(t, "/workflows/sleep-1?wait=30s")
			answers <- answer{resp, body}
		}()
	}
	require.Eventually(t, func() bool { return g.fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	began := time.Now()
	close(g.draining)
	for range 2 {
		a := <-answers
		require.Equal(t, http.StatusOK, a.resp.StatusCode)
		assert.Equal(t, gen.ExecutionStatusRUNNING, decode(t, a.body).Status)
	}
	assert.Less(t, time.Since(began), 2*time.Second)
	requireAllAnswered(t, g.parked)

	// A wait that comes while the gateway drains is not parked, and ends at once.
	resp, body := g.get(t, "/workflows/sleep-1?wait=30s")
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	assert.False(t, resp.Close)
}

// A parked wait holds one goroutine on the server (it notices a client that hangs up), where a
// wait in its handler holds two (the handler and net/http's background read) and their stacks.
func TestParkedWaitsHoldOneGoroutineEach(t *testing.T) {
	g := newParkedGateway(t)
	const readers = 300
	before := runtime.NumGoroutine()
	conns := make([]net.Conn, readers)
	for i := range conns {
		c, err := net.Dial("tcp", g.srv.Listener.Addr().String())
		require.NoError(t, err)
		fmt.Fprintf(c, "GET /workflows/sleep-1?runId=01a2110d-1b69-77ad-9897-000000000001&wait=30s HTTP/1.1\r\nHost: gateway\r\n\r\n")
		conns[i] = c
	}
	require.Eventually(t, func() bool {
		return scrape(t, g.h)["gateway_http_requests_in_flight"]["method=GET,route=/workflows/{workflowId}"] == readers
	}, 5*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	held := runtime.NumGoroutine() - before
	t.Logf("%d parked waits hold %d goroutines", readers, held)
	assert.Less(t, held, readers*5/4)

	g.fake.complete()
	for _, c := range conns {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		_ = resp.Body.Close()
		_ = c.Close()
	}
	requireAllAnswered(t, g.parked)
}

// No middleware guards the goroutine that answers a parked wait: a panic there is still a 500
// problem, not a crash.
func TestParkedWaitWhoseReadPanicsIs500(t *testing.T) {
	g := newParkedGateway(t)
	go func() {
		require.Eventually(t, func() bool { return g.fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond)
		g.fake.mu.Lock()
		g.fake.panicWith = secret
		g.fake.mu.Unlock()
	}()
	resp, body := g.get(t, "/workflows/sleep-1?wait=300ms")
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode, "body: %s", body)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.NotContains(t, string(body), secret)
	requireAllAnswered(t, g.parked)
}

// Of two parked waits on one run, the one whose wait passes answers a fresh read and leaves; the
// shared poll goes on and answers the other when the run closes.
func TestParkedWaitThatPassesLeavesTheSharedResultAlone(t *testing.T) {
	g := newParkedGateway(t)
	long := make(chan []byte, 1)
	go func() {
		_, body := g.get(t, "/workflows/sleep-1?runId=01a2110d-1b69-77ad-9897-000000000001&wait=30s")
		long <- body
	}()
	require.Eventually(t, func() bool { return g.fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond)
	resp, body := g.get(t, "/workflows/sleep-1?runId=01a2110d-1b69-77ad-9897-000000000001&wait=100ms")
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	assert.Equal(t, gen.ExecutionStatusRUNNING, decode(t, body).Status)
	g.fake.complete()
	assert.Equal(t, gen.ExecutionStatusCOMPLETED, decode(t, <-long).Status)
	requireAllAnswered(t, g.parked)
}

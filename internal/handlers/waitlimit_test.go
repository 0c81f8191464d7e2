package handlers_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/handlers"
)

// heldRequest is a request served on a goroutine of its own, which holds it until the run closes,
// its wait passes or leave is called; code is its status once answered.
type heldRequest struct {
	leave context.CancelFunc
	code  chan int
}

// hold serves a GET of target from the address from, and returns once it holds its place: a wait
// or a stream takes its place before it reads the execution, so the fake's Describe tells.
func hold(t *testing.T, h http.Handler, fake *longPollFake, from, target string) heldRequest {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req := newRequest(http.MethodGet, target, "").WithContext(ctx)
	req.RemoteAddr = from
	held := heldRequest{leave: cancel, code: make(chan int, 1)}
	described := len(fake.describeCalls())
	go func() { held.code <- serve(h, req).Code }()
	t.Cleanup(cancel)
	require.Eventually(t, func() bool { return len(fake.describeCalls()) > described }, 5*time.Second, time.Millisecond,
		"%s from %s did not begin", target, from)
	select {
	case code := <-held.code:
		t.Fatalf("%s from %s was answered %d instead of held", target, from, code)
	default:
	}
	return held
}

func sentFrom(addr string, req *http.Request) *http.Request {
	req.RemoteAddr = addr
	return req
}

// TestWaitsAreBoundedPerCallerAndInTotal holds waits and streams on a running run with a bound
// of 1 per client and 2 in total. A client's next wait, stream or start-and-wait is a 429 problem
// (nothing is started), while its plain reads and another client's wait pass; past the total it
// is a 503; a client that leaves gives its place back.
func TestWaitsAreBoundedPerCallerAndInTotal(t *testing.T) {
	fake := newLongPollFake()
	h := newRouter(t, fake, func(o *handlers.Options) { o.ConcurrentWaitsPerCaller, o.ConcurrentWaits = 1, 2 })
	const alice, bob, carol = "192.0.2.1:1000", "192.0.2.2:1000", "192.0.2.3:1000"
	waitOn := "/workflows/sleep-1?wait=30s"

	first := hold(t, h, fake, alice, waitOn)
	for _, tt := range []struct {
		name string
		req  *http.Request
	}{
		{"wait", newRequest(http.MethodGet, waitOn, "")},
		{"stream", newRequest(http.MethodGet, "/workflows/sleep-1/events", "")},
		{"start and wait", newRequest(http.MethodPost, "/workflows?wait=30s", `{"workflowType":"Greeting"}`)},
	} {
		t.Run("alice's "+tt.name, func(t *testing.T) {
			rec := serve(h, sentFrom(alice, tt.req))
			requireProblem(t, rec, "urn:temporal-http:problem:too-many-waits")
			assert.Equal(t, "2", rec.Header().Get("Retry-After"))
		})
	}
	assert.Empty(t, fake.startCalls(), "a refused start and wait started nothing")
	assert.Equal(t, http.StatusOK, serve(h, sentFrom(alice, newRequest(http.MethodGet, "/workflows/sleep-1", ""))).Code,
		"a read that does not wait is not bounded")

	stream := hold(t, h, fake, bob, "/workflows/sleep-1/events")
	rec := serve(h, sentFrom(carol, newRequest(http.MethodGet, waitOn, "")))
	requireProblem(t, rec, "urn:temporal-http:problem:waits-exhausted")
	assert.Equal(t, "2", rec.Header().Get("Retry-After"))

	first.leave()
	stream.leave()
	<-first.code
	<-stream.code
	for _, who := range []string{alice, carol} {
		assert.Equal(t, http.StatusOK, serve(h, sentFrom(who, newRequest(http.MethodGet, "/workflows/sleep-1?wait=10ms", ""))).Code,
			"%s waits again once the others have left", who)
	}
}

// TestWaitCallersOfOneIPv6Network: the addresses of one /64 are one client, as for the rate limit.
func TestWaitCallersOfOneIPv6Network(t *testing.T) {
	fake := newLongPollFake()
	h := newRouter(t, fake, func(o *handlers.Options) { o.ConcurrentWaitsPerCaller, o.ConcurrentWaits = 1, 10 })
	hold(t, h, fake, "[2001:db8::1]:1000", "/workflows/sleep-1?wait=30s")
	requireProblem(t, serve(h, sentFrom("[2001:db8::2]:1000", newRequest(http.MethodGet, "/workflows/sleep-1?wait=10ms", ""))),
		"urn:temporal-http:problem:too-many-waits")
	assert.Equal(t, http.StatusOK,
		serve(h, sentFrom("[2001:db8:0:1::1]:1000", newRequest(http.MethodGet, "/workflows/sleep-1?wait=10ms", ""))).Code,
		"another /64 is another client")
}

// TestWaitHoldsItsPlaceUntilAnswered holds a wait on a real connection under a bound of one wait
// per client: the client's next wait is refused for as long as the first is not answered, and let
// through once it is, by its wait passing or by the client hanging up.
func TestWaitHoldsItsPlaceUntilAnswered(t *testing.T) {
	fake := newLongPollFake()
	srv := httptest.NewServer(newRouter(t, fake, func(o *handlers.Options) { o.ConcurrentWaitsPerCaller, o.ConcurrentWaits = 1, 10 }))
	t.Cleanup(srv.Close)
	hold := func(t *testing.T, wait string) net.Conn {
		t.Helper()
		described := len(fake.describeCalls())
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		_, err = fmt.Fprintf(conn, "GET /workflows/sleep-1?wait=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", wait)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(fake.describeCalls()) > described }, 5*time.Second, time.Millisecond)
		return conn
	}
	nextWait := func(t *testing.T) int {
		resp, err := http.Get(srv.URL + "/workflows/sleep-1?wait=10ms")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	for _, tc := range []struct {
		name  string
		wait  string
		leave func(*testing.T, net.Conn)
	}{
		{"answered when its wait passes", "300ms", func(t *testing.T, conn net.Conn) {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		}},
		{"client hangs up", "30s", func(t *testing.T, conn net.Conn) { require.NoError(t, conn.Close()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := hold(t, tc.wait)
			assert.Equal(t, http.StatusTooManyRequests, nextWait(t), "the wait holds the client's place")
			tc.leave(t, conn)
			assert.Eventually(t, func() bool { return nextWait(t) == http.StatusOK }, 5*time.Second, 20*time.Millisecond,
				"the place is given back once the wait is answered")
		})
	}
}

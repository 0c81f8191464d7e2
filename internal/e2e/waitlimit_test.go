package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
)

// waitCaller is one client of a gateway: its own connections, from its own address, with its own
// credentials (none on an open gateway).
type waitCaller struct {
	client *http.Client
	apiKey string
}

// newWaitCaller is a client that connects from the loopback address from, sending apiKey when it
// is not empty.
func newWaitCaller(from, apiKey string) waitCaller {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return waitCaller{client: &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}, apiKey: apiKey}
}

// send makes a request with ctx and returns the answer, its body unread.
func (c waitCaller) send(t *testing.T, ctx context.Context, method, url, body string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("X-API-Key", c.apiKey)
	}
	resp, err := c.client.Do(req)
	require.NoError(t, err)
	return resp
}

// status makes a request and returns its status, the body read and closed.
func (c waitCaller) status(t *testing.T, method, url, body string) int {
	t.Helper()
	resp := c.send(t, t.Context(), method, url, body)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// stream opens the event stream at url and reads its first event: the gateway has taken the
// stream's place by then. Closing the body hangs up.
func (c waitCaller) stream(t *testing.T, url string) io.ReadCloser {
	t.Helper()
	resp := c.send(t, t.Context(), http.MethodGet, url, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the stream was refused")
	lines := bufio.NewReader(resp.Body)
	for {
		line, err := lines.ReadString('\n')
		require.NoError(t, err, "the stream ended before its first event")
		if strings.TrimSpace(line) == "event: execution" {
			return resp.Body
		}
	}
}

// wait sends a waiting GET of url that stays unanswered until leave is
// called, which hangs up.
func (c waitCaller) wait(t *testing.T, url string) (leave func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		if c.apiKey != "" {
			req.Header.Set("X-API-Key", c.apiKey)
		}
		if resp, err := c.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	return func() { cancel(); <-done }
}

// refused checks that resp is the problem typ with status and a Retry-After.
func refused(t *testing.T, resp *http.Response, status int, typ string) {
	t.Helper()
	retryAfter, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	assert.NoError(t, err, "Retry-After %q", resp.Header.Get("Retry-After"))
	assert.GreaterOrEqual(t, retryAfter, 1)
	problemOf(t, resp, status, typ)
}

// TestWaitsAndStreamsAreBoundedPerCallerAndInTotal runs gateways that let one caller hold 2 waits
// and event streams and all callers 3, with callers told apart by API key, and, on an open
// gateway, by address (127.0.0.1 and 127.0.0.2). Alice holds a stream and a wait: her next
// wait, stream and start-and-wait are 429 problems with Retry-After (the start starts nothing),
// while her plain read passes and Bob's stream gets through. With that third one held, Bob's
// wait is a 503 problem with Retry-After. Once Alice hangs up both, she holds two streams again.
func TestWaitsAndStreamsAreBoundedPerCallerAndInTotal(t *testing.T) {
	aliceKey, aliceEntry := mintKey(t, "alice", "read+start")
	bobKey, bobEntry := mintKey(t, "bob", "read+start")
	bounds := []string{"GATEWAY_CONCURRENT_WAITS_PER_CALLER=2", "GATEWAY_CONCURRENT_WAITS=3"}
	for _, tc := range []struct {
		name       string
		env        []string
		alice, bob waitCaller
	}{
		{"callers by API key", append(bounds, "GATEWAY_API_KEYS="+aliceEntry+","+bobEntry),
			newWaitCaller("127.0.0.1", aliceKey), newWaitCaller("127.0.0.1", bobKey)},
		{"callers by address, open", bounds, newWaitCaller("127.0.0.1", ""), newWaitCaller("127.0.0.2", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := startGuardedGateway(t, tc.env...)
			id := uniqueID(t)
			start(t, "Sleep", id, `{"seconds":600}`)
			t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.WithoutCancel(t.Context()), id, "", "test over") })
			execution, events := base+"/workflows/"+id, base+"/workflows/"+id+"/events"
			alice, bob := tc.alice, tc.bob

			aliceStream := alice.stream(t, events)
			leaveWait := alice.wait(t, execution+"?wait=60s")
			require.Eventually(t, func() bool {
				return metricSum(scrapeMetrics(t, base+"/metrics"), "gateway_http_requests_in_flight",
					map[string]string{"route": "/workflows/{workflowId}", "method": "GET"}) == 1
			}, 10*time.Second, 20*time.Millisecond, "alice's wait is held")

			unstarted := uniqueID(t)
			for _, r := range []struct{ method, url, body string }{
				{http.MethodGet, execution + "?wait=1s", ""},
				{http.MethodGet, events, ""},
				{http.MethodPost, base + "/workflows?wait=10s", `{"workflowType":"Greeting","workflowId":"` + unstarted + `","input":{"name":"Alice"}}`},
			} {
				refused(t, alice.send(t, t.Context(), r.method, r.url, r.body), http.StatusTooManyRequests, "urn:temporal-http:problem:too-many-waits")
			}
			_, err := temporalC.DescribeWorkflowExecution(t.Context(), unstarted, "")
			var notFound *serviceerror.NotFound
			assert.ErrorAs(t, err, &notFound, "the refused start and wait started nothing")
			assert.Equal(t, http.StatusOK, alice.status(t, http.MethodGet, execution, ""), "a read that does not wait is not bounded")

			bobStream := bob.stream(t, events) // another caller gets through
			defer bobStream.Close()
			refused(t, bob.send(t, t.Context(), http.MethodGet, execution+"?wait=1s", ""), http.StatusServiceUnavailable,
				"urn:temporal-http:problem:waits-exhausted")

			require.NoError(t, aliceStream.Close())
			leaveWait()
			require.Eventually(t, func() bool {
				return alice.status(t, http.MethodGet, execution+"?wait=1ms", "") == http.StatusOK
			}, 10*time.Second, 50*time.Millisecond, "alice's places are given back when she hangs up")
			for range 2 {
				s := alice.stream(t, events)
				defer s.Close()
			}
		})
	}
}

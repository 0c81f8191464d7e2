package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// startGuardedGateway runs a gateway process of its own, on the suite's Temporal and task queue,
// with the extra settings env, until the test ends; it returns the gateway's base URL.
func startGuardedGateway(t *testing.T, env ...string) string {
	t.Helper()
	gw, base, err := startGateway(append([]string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue, "GATEWAY_HTTP_ADDR=127.0.0.1:0",
	}, env...))
	require.NoError(t, err)
	t.Cleanup(gw.stop)
	require.NoError(t, waitReady(base))
	return base
}

// getFrom GETs base+path with the given X-Forwarded-For (none when empty).
func getFrom(t *testing.T, base, path, forwardedFor string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
	require.NoError(t, err)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// problemOf reads a problem+json answer and checks its status and type.
func problemOf(t *testing.T, resp *http.Response, status int, typ string) {
	t.Helper()
	defer resp.Body.Close()
	require.Equal(t, status, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	assert.Equal(t, typ, p.Type)
	assert.Equal(t, status, p.Status)
	assert.NotEmpty(t, p.Detail)
}

// TestRateLimitAnswers429WithRetryAfter uses up a client's allowance on a gateway process limited
// to 3 requests per 3 seconds (a token a second): the next request is a 429 problem with
// Retry-After, a forged X-Forwarded-For does not escape it, health checks are not limited, and
// after Retry-After seconds the client is let through again.
func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	base := startGuardedGateway(t, "GATEWAY_RATE_LIMIT_REQUESTS=3", "GATEWAY_RATE_LIMIT_WINDOW=3s")
	for i := range 3 {
		require.Equal(t, http.StatusOK, getFrom(t, base, "/workflow-types", "").StatusCode, "request %d", i+1)
	}

	resp, err := http.Get(base + "/workflow-types")
	require.NoError(t, err)
	problemOf(t, resp, http.StatusTooManyRequests, "urn:temporal-http:problem:rate-limited")
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))

	for _, spoof := range []string{"203.0.113.9", "198.51.100.1, 203.0.113.10", "10.0.0.1", "::1"} {
		r := getFrom(t, base, "/workflow-types", spoof)
		assert.Equal(t, http.StatusTooManyRequests, r.StatusCode, "X-Forwarded-For %q escaped the limit", spoof)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		assert.Equal(t, http.StatusOK, getFrom(t, base, path, "").StatusCode, "%s is never limited", path)
	}

	r := getFrom(t, base, "/workflow-types", "")
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	retryAfter, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	time.Sleep(time.Duration(retryAfter) * time.Second)
	assert.Equal(t, http.StatusOK, getFrom(t, base, "/workflow-types", "").StatusCode, "Retry-After promised a request by now")
}

// TestRateLimitBehindATrustedProxy runs a gateway that trusts the loopback address as its proxy:
// then X-Forwarded-For names the client, and each client has an allowance of its own.
func TestRateLimitBehindATrustedProxy(t *testing.T) {
	base := startGuardedGateway(t, "GATEWAY_RATE_LIMIT_REQUESTS=1", "GATEWAY_RATE_LIMIT_WINDOW=1m",
		"GATEWAY_TRUSTED_PROXIES=127.0.0.1")

	assert.Equal(t, http.StatusOK, getFrom(t, base, "/workflow-types", "198.51.100.7").StatusCode)
	assert.Equal(t, http.StatusTooManyRequests, getFrom(t, base, "/workflow-types", "198.51.100.7").StatusCode)
	assert.Equal(t, http.StatusTooManyRequests, getFrom(t, base, "/workflow-types", "203.0.113.9, 198.51.100.7").StatusCode,
		"what the client put in front of the proxy's entry is not believed")
	assert.Equal(t, http.StatusOK, getFrom(t, base, "/workflow-types", "198.51.100.8").StatusCode)
}

// TestSlowHeadersAreCutOff dribbles a request's headers a byte at a time into a gateway process
// with a 1 s header timeout: the gateway closes the connection after about that long, while a
// prompt client on the same gateway is answered.
func TestSlowHeadersAreCutOff(t *testing.T) {
	base := startGuardedGateway(t, "GATEWAY_READ_HEADER_TIMEOUT=1s")
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	began := time.Now()
	_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
	require.NoError(t, err)

	closed := make(chan error, 1)
	go func() {
		b, err := io.ReadAll(conn)
		if err == nil && len(b) > 0 {
			err = fmt.Errorf("gateway answered the slow client: %q", b)
		}
		closed <- err
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(8 * time.Second)
dribble:
	for {
		select {
		case err := <-closed:
			if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "connection reset") {
				require.NoError(t, err)
			}
			break dribble
		case <-tick.C:
			if _, err := conn.Write([]byte("x")); err != nil {
				break dribble // the gateway has hung up
			}
		case <-deadline:
			t.Fatalf("the gateway still held a connection dribbling headers after %s", time.Since(began).Round(time.Millisecond))
		}
	}
	took := time.Since(began)
	assert.GreaterOrEqual(t, took, 900*time.Millisecond, "cut off before the header timeout")
	assert.Less(t, took, 4*time.Second, "not cut off near the header timeout")

	assert.Equal(t, http.StatusOK, getFrom(t, base, "/healthz", "").StatusCode)
}

// TestWaitLongerThanTheReadTimeoutIsAnswered starts a 4 s workflow with wait on a gateway process
// whose read timeout is 2 s: the read timeout bounds reading the request only, and the derived
// write timeout exceeds the wait, so the start is answered with the completed execution.
func TestWaitLongerThanTheReadTimeoutIsAnswered(t *testing.T) {
	base := startGuardedGateway(t, "GATEWAY_READ_HEADER_TIMEOUT=1s", "GATEWAY_READ_TIMEOUT=2s")
	id := uniqueID(t)
	began := time.Now()
	r, err := apiAt(t, base).StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("30s")},
		client.StartWorkflowRequest{WorkflowType: "Sleep", WorkflowId: &id, Input: rawJSON(`{"seconds":4}`)})
	require.NoError(t, err)
	took := time.Since(began)

	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON201)
	assert.Equal(t, client.ExecutionStatus("COMPLETED"), r.JSON201.Status)
	assert.Greater(t, took, 3*time.Second, "the request was held past the read timeout")
}

// TestBodyOverTheLimitIs413 sends bodies over the limit to gateway processes, announced by
// Content-Length and streamed without one: both are refused with a 413 problem, and a body under
// the limit is accepted.
func TestBodyOverTheLimitIs413(t *testing.T) {
	startBody := func(size int) []byte {
		prefix := `{"workflowType":"Echo","input":"`
		return []byte(prefix + strings.Repeat("a", size-len(prefix)-2) + `"}`)
	}
	post := func(t *testing.T, base string, body []byte, chunked bool) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/workflows", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if chunked {
			req.ContentLength = -1 // unknown: sent chunked, so only reading the body finds it too large
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}

	t.Run("configured limit", func(t *testing.T) {
		base := startGuardedGateway(t, "GATEWAY_MAX_BODY_BYTES=1024")
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("chunked %v", chunked), func(t *testing.T) {
				problemOf(t, post(t, base, startBody(1025), chunked), http.StatusRequestEntityTooLarge,
					"urn:temporal-http:problem:payload-too-large")
				resp := post(t, base, startBody(1024), chunked)
				resp.Body.Close()
				assert.Equal(t, http.StatusCreated, resp.StatusCode, "a body of exactly the limit is accepted")
			})
		}
	})
	t.Run("default limit of 2 MiB", func(t *testing.T) {
		problemOf(t, post(t, gatewayURL, startBody(2<<20+1), false), http.StatusRequestEntityTooLarge,
			"urn:temporal-http:problem:payload-too-large")
	})
}

// TestSecurityHeadersFromTheProcess checks the headers on answers of the suite's gateway process:
// a success, a problem and the spec.
func TestSecurityHeadersFromTheProcess(t *testing.T) {
	want := map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "no-referrer",
		"Content-Security-Policy":    "default-src 'none'; frame-ancestors 'none'",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for _, path := range []string{"/healthz", "/workflows/no-such-workflow-" + uniqueID(t), "/openapi.yaml"} {
		resp := getFrom(t, gatewayURL, path, "")
		for name, value := range want {
			assert.Equal(t, value, resp.Header.Get(name), "%s on %s", name, path)
		}
		assert.Empty(t, resp.Header.Get("Strict-Transport-Security"), "HSTS is off unless configured")
	}
}

// TestSlowBodyIsCutOffAtTheReadTimeout sends its headers at once and then dribbles the body: the
// read timeout ends the request with a 408 problem instead of holding the connection.
func TestSlowBodyIsCutOffAtTheReadTimeout(t *testing.T) {
	base := startGuardedGateway(t, "GATEWAY_READ_HEADER_TIMEOUT=1s", "GATEWAY_READ_TIMEOUT=2s")
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	began := time.Now()
	_, err = io.WriteString(conn, "POST /workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	require.NoError(t, err)

	answered := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn)
		answered <- string(b)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(8 * time.Second)
	var answer string
dribble:
	for {
		select {
		case answer = <-answered:
			break dribble
		case <-tick.C:
			_, _ = conn.Write([]byte(" ")) // fails once the gateway has hung up; the read tells
		case <-deadline:
			t.Fatalf("the gateway still held a connection dribbling its body after %s", time.Since(began).Round(time.Millisecond))
		}
	}
	took := time.Since(began)
	assert.GreaterOrEqual(t, took, 1900*time.Millisecond, "cut off before the read timeout")
	assert.Less(t, took, 5*time.Second, "not cut off near the read timeout")
	assert.True(t, strings.HasPrefix(answer, "HTTP/1.1 408 "), "answer: %q", answer)
	assert.Contains(t, answer, "application/problem+json")
	assert.Contains(t, answer, "urn:temporal-http:problem:request-timeout")
}

// TestIdleConnectionsAreClosed keeps a connection alive after one answer and leaves it idle: the
// idle timeout closes it, so idle clients cannot hold connections open.
func TestIdleConnectionsAreClosed(t *testing.T) {
	base := startGuardedGateway(t, "GATEWAY_IDLE_TIMEOUT=1s")
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.False(t, resp.Close, "the connection is kept alive after the answer")

	idleSince := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(8*time.Second)))
	_, err = br.ReadByte()
	require.Error(t, err)
	var netErr net.Error
	require.False(t, errors.As(err, &netErr) && netErr.Timeout(), "the gateway still held an idle connection after 8s")
	took := time.Since(idleSince)
	assert.GreaterOrEqual(t, took, 900*time.Millisecond, "closed before the idle timeout")
	assert.Less(t, took, 4*time.Second, "not closed near the idle timeout")
}

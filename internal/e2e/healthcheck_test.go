package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The container images' HEALTHCHECK runs `server healthcheck` and `worker healthcheck`. These
// tests run the built binaries the same way, beside real processes and the real dev server.

// healthcheckExit runs `<bin> healthcheck [args]` with env and returns its exit code and output.
func healthcheckExit(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, bin), append([]string{"healthcheck"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	require.NoError(t, err)
	return 0, string(out)
}

func TestGatewayHealthcheck(t *testing.T) {
	code, out := healthcheckExit(t, "server", []string{"GATEWAY_HTTP_ADDR=" + strings.TrimPrefix(gatewayURL, "http://")})
	assert.Equal(t, 0, code, "the stack's gateway is ready: %s", out)

	// A gateway that cannot reach Temporal is alive, not ready.
	p, url, err := startGateway([]string{"TEMPORAL_ADDRESS=127.0.0.1:1", "GATEWAY_HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=error"})
	require.NoError(t, err)
	t.Cleanup(p.stop)
	env := []string{"GATEWAY_HTTP_ADDR=" + strings.TrimPrefix(url, "http://")}
	code, out = healthcheckExit(t, "server", env)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "/readyz: 503 Service Unavailable")
	code, out = healthcheckExit(t, "server", env, "/healthz")
	assert.Equal(t, 0, code, out)

	port, err := freePort()
	require.NoError(t, err)
	code, out = healthcheckExit(t, "server", []string{fmt.Sprintf("GATEWAY_HTTP_ADDR=:%d", port)})
	assert.Equal(t, 1, code, "nothing listens: %s", out)
	assert.Contains(t, out, "connection refused")
}

// TestWorkerHealthcheckFollowsTemporal runs a worker that reaches the dev server through a
// connection the test can cut: the worker is ready while Temporal answers it, alive but not ready
// while it does not, and ready again once it does.
func TestWorkerHealthcheckFollowsTemporal(t *testing.T) {
	link := &cuttableLink{target: temporalAddr}
	linkAddr := link.open(t, "127.0.0.1:0")
	defer link.cut()
	port, err := freePort()
	require.NoError(t, err)
	metrics := fmt.Sprintf("WORKER_METRICS_ADDR=127.0.0.1:%d", port)
	w, err := startProcess(filepath.Join(binDir, "worker"), []string{
		"TEMPORAL_ADDRESS=" + linkAddr, "TEMPORAL_TASK_QUEUE=" + uniqueID(t), "LOG_LEVEL=error", metrics,
	}, io.Discard) // while the link is cut the worker logs its failed polls
	require.NoError(t, err)
	defer w.stop()

	exitsWith := func(want int, args ...string) func() bool {
		return func() bool { code, _ := healthcheckExit(t, "worker", []string{metrics}, args...); return code == want }
	}
	require.Eventually(t, exitsWith(0), 20*time.Second, 200*time.Millisecond, "the worker becomes ready")

	link.cut()
	require.Eventually(t, exitsWith(1), 20*time.Second, 200*time.Millisecond, "not ready without Temporal")
	_, out := healthcheckExit(t, "worker", []string{metrics})
	assert.Contains(t, out, "/readyz: 503 Service Unavailable")
	assert.Eventually(t, exitsWith(0, "/healthz"), 5*time.Second, 200*time.Millisecond, "alive without Temporal")

	link.open(t, linkAddr)
	assert.Eventually(t, exitsWith(0), 30*time.Second, 500*time.Millisecond, "ready again once Temporal answers")
}

// cuttableLink forwards TCP connections to target until cut, which closes the listener and
// every connection it carries, as a network partition would.
type cuttableLink struct {
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func (l *cuttableLink) open(t *testing.T, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	l.mu.Lock()
	l.ln = ln
	l.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", l.target)
			if err != nil {
				in.Close()
				continue
			}
			l.mu.Lock()
			l.conns = append(l.conns, in, out)
			l.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return ln.Addr().String()
}

func (l *cuttableLink) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.ln.Close()
	}
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

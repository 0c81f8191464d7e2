package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"
)

// The answers of the health endpoints match the gateway's /healthz and /readyz, so that one
// probe, and one container HEALTHCHECK, reads both deployables alike.
const (
	healthOK = `{"status":"ok"}`
	// The cause stays out of the answer: the endpoint needs no credentials.
	notReady = `{"type":"urn:temporal-http:problem:temporal-unavailable","title":"Temporal unavailable",` +
		`"status":503,"detail":"Temporal cannot be reached right now."}`
	readyTimeout = 2 * time.Second
	// ReadyTTL is how long a health check's result answers readiness probes: one check a second
	// keeps a probe's answer current while no number of probes costs more.
	ReadyTTL = time.Second
)

// healthHandlers answers GET /healthz while the process runs, and GET /readyz with 200 when
// ready returns nil and a 503 problem otherwise.
func healthHandlers(mux *http.ServeMux, ready func(context.Context) error, logger *slog.Logger) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, "application/json", healthOK)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := ready(ctx); err != nil {
			logger.WarnContext(ctx, "temporal health check failed", "error", err)
			writeJSON(w, http.StatusServiceUnavailable, "application/problem+json", notReady)
			return
		}
		writeJSON(w, http.StatusOK, "application/json", healthOK)
	})
}

// ErrHealthCheckPanicked is the result of a health check that panicked: a bug of the process,
// not an answer of what it checks.
var ErrHealthCheckPanicked = errors.New("health check panicked")

// HealthCache answers readiness probes from one shared health check, so that a flood of probes
// cannot become a flood of calls to what they check: a result is reused for a while after it
// came, and probes that arrive while a check runs wait for that check instead of starting their
// own. However many probes arrive, the checked service sees at most one check per ttl, plus the
// time a check takes.
type HealthCache struct {
	check   func(context.Context) error
	ttl     time.Duration
	timeout time.Duration

	mu   sync.Mutex
	last *healthRun // the latest check, running or done; nil before the first
}

// healthRun is one check: done is closed once err holds its result, at ended.
type healthRun struct {
	done  chan struct{}
	err   error
	ended time.Time
}

// NewHealthCache returns a cache over check, whose results it reuses for ttl and which it gives
// timeout to answer.
func NewHealthCache(check func(context.Context) error, ttl, timeout time.Duration) *HealthCache {
	return &HealthCache{check: check, ttl: ttl, timeout: timeout}
}

// Check returns the result of the latest check while it is fresh; otherwise it starts a check, or
// joins the one under way, and returns its result. It returns ctx's error if ctx ends first.
func (c *HealthCache) Check(ctx context.Context) error {
	c.mu.Lock()
	run := c.last
	switch {
	case run == nil:
	case !run.ended.IsZero() && time.Since(run.ended) < c.ttl:
		c.mu.Unlock()
		return run.err
	case run.ended.IsZero():
		// Under way: join it.
		c.mu.Unlock()
		return run.wait(ctx)
	}
	run = &healthRun{done: make(chan struct{})}
	c.last = run
	c.mu.Unlock()
	// The check belongs to every probe that joins it, not to the one that started it: a probe
	// that gives up must not fail the others.
	go c.run(context.WithoutCancel(ctx), run)
	return run.wait(ctx)
}

func (c *HealthCache) run(ctx context.Context, run *healthRun) {
	err := c.checkOnce(ctx)
	c.mu.Lock()
	run.err, run.ended = err, time.Now()
	c.mu.Unlock()
	close(run.done)
}

// checkOnce runs the check within the timeout. No middleware guards the goroutine it runs on, so
// a panic becomes a failed check rather than the end of the process.
func (c *HealthCache) checkOnce(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrHealthCheckPanicked, v, debug.Stack())
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.check(ctx)
}

func (r *healthRun) wait(ctx context.Context) error {
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func writeJSON(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// ProbeHealth asks the process that listens on listenAddr, given as the process was configured
// (":8080", "0.0.0.0:9090", "127.0.0.1:8080"), for path over loopback, and returns nil when it
// answers 200. It is what a container HEALTHCHECK runs: the images have no shell and no curl.
func ProbeHealth(ctx context.Context, listenAddr, path string) error {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listenAddr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// A wildcard listener answers on loopback too.
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + path
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// No proxy: an HTTP_PROXY meant for outbound calls must not answer for this process. One
	// request, so no connection is kept for another.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// ProbePath reads the arguments of a `healthcheck` command: none asks /readyz, or one of /readyz
// and /healthz. It returns false for anything else.
func ProbePath(args []string) (string, bool) {
	switch {
	case len(args) == 0:
		return "/readyz", true
	case len(args) == 1 && (args[0] == "/readyz" || args[0] == "/healthz"):
		return args[0], true
	}
	return "", false
}

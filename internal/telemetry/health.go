package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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

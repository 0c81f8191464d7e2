package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// PrometheusHandler serves Registry in the Prometheus exposition formats, for a process with no
// HTTP API of its own (the worker). The gateway serves its registry through its API instead.
func (t *Telemetry) PrometheusHandler() http.Handler {
	return promhttp.HandlerFor(t.Registry, promhttp.HandlerOpts{
		// A collector that fails leaves the others readable; the failure is logged.
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(t.logger.Handler(), slog.LevelWarn),
	})
}

// ServeMetrics answers GET /metrics on ln until ctx ends. With a ready function it also answers
// GET /healthz (the process is alive) and GET /readyz (ready returns nil, else 503), so that a
// process with no HTTP API of its own can be probed by its container's HEALTHCHECK.
func (t *Telemetry) ServeMetrics(ctx context.Context, ln net.Listener, ready func(context.Context) error) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", t.PrometheusHandler())
	if ready != nil {
		healthHandlers(mux, ready, t.logger)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(t.logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down metrics server: %w", err)
	}
	return nil
}

// Package gateway runs the REST gateway's HTTP server around the handlers.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/handlers"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

// Serve answers HTTP on ln until ctx ends, then stops accepting and lets in-flight requests
// finish within cfg.ShutdownTimeout.
func Serve(ctx context.Context, ln net.Listener, cfg config.Gateway, c handlers.TemporalClient, tel *telemetry.Telemetry, logger *slog.Logger) error {
	types, err := handlers.ContractWorkflowTypes()
	if err != nil {
		return err
	}
	draining := make(chan struct{})
	router, err := handlers.NewRouter(handlers.Options{
		Client:                   c,
		Logger:                   logger,
		Namespace:                cfg.Temporal.Namespace,
		TaskQueue:                cfg.Temporal.TaskQueue,
		TaskQueues:               cfg.TaskQueues,
		AnyTaskQueue:             cfg.AnyTaskQueue,
		WorkflowTypes:            types,
		AllowAnyWorkflowType:     cfg.AllowAnyWorkflowType,
		MaxBodyBytes:             cfg.MaxBodyBytes,
		TemporalTimeout:          cfg.TemporalTimeout,
		RetryAfter:               2 * time.Second,
		MaxWait:                  cfg.MaxWait,
		ConcurrentWaitsPerCaller: cfg.ConcurrentWaitsPerCaller,
		ConcurrentWaits:          cfg.ConcurrentWaits,
		ClosedCacheSize:          int(cfg.ClosedCacheSize),
		Draining:                 draining,
		Metrics:                  tel.Registry,
		Instrument:               tel.Middleware,
		CORSAllowedOrigins:       cfg.Guard.CORSAllowedOrigins,
		CORSMaxAge:               cfg.Guard.CORSMaxAge,
		RateLimit:                cfg.Guard.RateLimitRequests,
		RateLimitWindow:          cfg.Guard.RateLimitWindow,
		TrustedProxies:           cfg.Guard.TrustedProxies,
		HSTS:                     cfg.Guard.HSTS,
		RestrictHosts:            cfg.HostsRestricted(),
		AllowedHosts:             cfg.Guard.AllowedHosts,
		Auth:                     auth.New(cfg.Auth.APIKeys, cfg.Auth.JWT),
	})
	if err != nil {
		return err
	}
	if !cfg.Auth.Enabled() {
		logger.Warn("no credentials configured: every client that reaches the gateway may start, read and terminate workflows",
			"addr", ln.Addr().String(), "allow_unauthenticated", cfg.Auth.AllowUnauthenticated)
	}
	if cfg.HostsRestricted() {
		// A client that reaches the gateway by another name gets 421: say which names are served.
		logger.Info("API requests are answered only when addressed to a loopback name or an allowed host",
			"allowed_hosts", cfg.Guard.AllowedHosts)
	}
	srv := &http.Server{
		Handler: router,
		// Slow clients cannot hold connections: headers and bodies must arrive in time. The read
		// timeout ends once the request is read (net/http clears it while the handler runs), so
		// it does not cut a long wait short. The write timeout is derived, not configured, so
		// that it always leaves room for the longest wait plus the Temporal calls around it (a
		// start, a Describe of an existing run, a Describe once it closes, each bounded by the
		// Temporal timeout), and the time the body may take to arrive, which the write timeout's
		// clock counts too; the event stream extends its own deadline as it goes.
		ReadHeaderTimeout: cfg.Guard.ReadHeaderTimeout,
		ReadTimeout:       cfg.Guard.ReadTimeout,
		WriteTimeout:      cfg.Guard.ReadTimeout + cfg.MaxWait + 3*cfg.TemporalTimeout + 15*time.Second,
		IdleTimeout:       cfg.Guard.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		Protocols:         protocols(),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("gateway listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	return shutdown(ctx, srv, draining, cfg.ShutdownTimeout, logger)
}

// protocols are HTTP/1.1 and HTTP/2 over plain TCP (h2c, with prior knowledge): the gateway
// usually sits behind a proxy that terminates TLS, and HTTP/2 lets that proxy, or a client, carry
// many waiting requests on a few connections.
func protocols() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}

// shutdown stops accepting connections and lets in-flight requests finish within timeout. Waits
// and event streams are told to end first: a wait answers with the execution as it is now (what
// it answers anyway when its time passes), so no client is cut off for holding a long wait. What
// is still running at the deadline is closed.
func shutdown(ctx context.Context, srv *http.Server, draining chan struct{}, timeout time.Duration, logger *slog.Logger) error {
	logger.Info("gateway stopping", "timeout", timeout.String())
	close(draining)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("requests still running at the shutdown deadline were cut off", "timeout", timeout.String())
		_ = srv.Close()
		return fmt.Errorf("shut down http server: requests still running after %s", timeout)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down http server: %w", err)
	}
	logger.Info("gateway stopped")
	return nil
}

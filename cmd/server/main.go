// Command server is the REST gateway: it maps HTTP/JSON requests onto a Temporal cluster.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gateway"
	"github.com/temporalhttp/gateway/internal/handlers"
	"github.com/temporalhttp/gateway/internal/telemetry"
	"github.com/temporalhttp/gateway/internal/temporalconn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "apikey" {
		return runAPIKey(args[2:], stdout)
	}
	if len(args) > 1 && args[1] == "healthcheck" {
		cfg, err := config.LoadGatewayHealthcheck(getenv)
		if err != nil {
			return err
		}
		return runHealthcheck(ctx, args[2:], cfg)
	}
	cfg, err := config.LoadGateway(getenv)
	if err != nil {
		return err
	}
	logger := config.NewLogger(stderr, cfg.Log)
	tel, err := telemetry.New(ctx, cfg.Telemetry, logger)
	if err != nil {
		return fmt.Errorf("set up telemetry: %w", err)
	}
	defer tel.Close(ctx, 5*time.Second)
	// A lazy client lets the gateway start, and answer 503, while Temporal is unreachable, and
	// reconnect by itself once it is back.
	c, err := client.NewLazyClient(executions.ClientOptions(tel.ClientOptions(temporalconn.ClientOptions(cfg.Temporal, logger))))
	if err != nil {
		return fmt.Errorf("create temporal client: %w", err)
	}
	defer c.Close()
	logger.Info("temporal client", "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace,
		"security", cfg.Temporal.Security())
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	return gateway.Serve(ctx, ln, cfg, handlers.NewSDK(c), tel, logger)
}

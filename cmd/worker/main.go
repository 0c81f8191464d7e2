// Command worker hosts this project's workflows and activities on a Temporal task queue.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/temporal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, _ []string, getenv func(string) string, _, stderr io.Writer) error {
	cfg, err := config.LoadWorker(getenv)
	if err != nil {
		return err
	}
	logger := config.NewLogger(stderr, cfg.Log)
	c, err := client.DialContext(ctx, temporal.ClientOptions(cfg.Temporal, logger))
	if err != nil {
		return fmt.Errorf("connect to temporal at %s (tls %t, api key %t): %w",
			cfg.Temporal.Address, cfg.Temporal.TLS, cfg.Temporal.APIKey, err)
	}
	defer c.Close()
	logger.Info("worker started", "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace,
		"task_queue", cfg.Temporal.TaskQueue, "tls", cfg.Temporal.TLS, "api_key", cfg.Temporal.APIKey)
	return temporal.RunWorker(ctx, c, cfg.Temporal.TaskQueue, cfg.ShutdownTimeout)
}

// Command worker hosts this project's workflows and activities on a Temporal task queue.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/telemetry"
	"github.com/temporalhttp/gateway/internal/temporal"
	"github.com/temporalhttp/gateway/internal/temporalconn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, _, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "healthcheck" {
		cfg, err := config.LoadWorkerHealthcheck(getenv)
		if err != nil {
			return err
		}
		return runHealthcheck(ctx, args[2:], cfg)
	}
	cfg, err := config.LoadWorker(getenv)
	hooks, hooksErr := config.LoadWorkerTestHooks(getenv)
	if err := errors.Join(err, hooksErr); err != nil {
		return err
	}
	logger := config.NewLogger(stderr, cfg.Log)
	hooks.WarnIfSet(logger)
	tel, err := telemetry.New(ctx, cfg.Telemetry, logger)
	if err != nil {
		return fmt.Errorf("set up telemetry: %w", err)
	}
	defer tel.Close(ctx, 5*time.Second)
	// Listen before dialling, so that a taken port stops the worker at once; serve once the client
	// exists, because /readyz asks Temporal through it.
	var metricsLn net.Listener
	if cfg.Telemetry.MetricsAddr != "" {
		metricsLn, err = net.Listen("tcp", cfg.Telemetry.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen for metrics on %s: %w", cfg.Telemetry.MetricsAddr, err)
		}
		defer metricsLn.Close()
	}
	c, err := client.DialContext(ctx, tel.ClientOptions(temporalconn.ClientOptions(cfg.Temporal, logger)))
	if err != nil {
		return fmt.Errorf("connect to temporal at %s (%s): %w", cfg.Temporal.Address, cfg.Temporal.Security(), err)
	}
	defer c.Close()
	if metricsLn != nil {
		logger.Info("worker metrics and health listening", "addr", metricsLn.Addr().String())
		// Probes share one health check a second, so that however often /readyz is asked,
		// Temporal is not asked more.
		ready := telemetry.NewHealthCache(func(ctx context.Context) error {
			_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}, telemetry.ReadyTTL, 2*time.Second)
		go func() {
			if err := tel.ServeMetrics(ctx, metricsLn, ready.Check); err != nil {
				logger.Error("worker metrics stopped", "error", err)
			}
		}()
	}
	bank, err := temporal.OpenBank(cfg.BankFile, temporal.SeedAccounts, hooks.BankDelay)
	if err != nil {
		return err
	}
	logger.Info("worker started", "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace,
		"task_queue", cfg.Temporal.TaskQueue, "security", cfg.Temporal.Security(), "bank_file", cfg.BankFile)
	return temporal.RunWorker(ctx, c, cfg.Temporal.TaskQueue, cfg.ShutdownTimeout, bank)
}

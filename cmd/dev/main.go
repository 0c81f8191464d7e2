// Command dev runs the whole stack on this machine: a Temporal dev server (SQLite file, Web UI),
// the worker and the gateway. `go run ./cmd/dev cli` only finds or builds the Temporal CLI and
// prints its path. `go run ./cmd/dev cluster` runs the production shape instead: PostgreSQL,
// Temporal's four services as four processes, two workers and two gateways.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/devserver"
	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gateway"
	"github.com/temporalhttp/gateway/internal/handlers"
	"github.com/temporalhttp/gateway/internal/telemetry"
	"github.com/temporalhttp/gateway/internal/temporal"
	"github.com/temporalhttp/gateway/internal/temporalconn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "cli" {
		cliCfg, err := config.LoadTemporalCLI(getenv)
		if err != nil {
			return err
		}
		cli, err := devserver.EnsureCLI(ctx, cliCfg, stderr)
		if err != nil {
			return err
		}
		if cli == "" {
			return errors.New("no Temporal CLI found")
		}
		fmt.Fprintln(stdout, cli)
		return nil
	}
	if len(args) > 1 && args[1] == "cluster" {
		return runCluster(ctx, getenv, stdout, stderr)
	}
	if len(args) > 1 {
		return fmt.Errorf("unknown argument %q (usage: dev [cli|cluster])", args[1])
	}

	cfg, err := config.LoadDev(getenv)
	// The launcher's worker takes the test hooks too, so that a hold can be tried by hand.
	hooks, hooksErr := config.LoadWorkerTestHooks(getenv)
	if err := errors.Join(err, hooksErr); err != nil {
		return err
	}
	gwCfg, wkCfg, dataDir := cfg.Gateway, cfg.Worker, cfg.DataDir
	logger := config.NewLogger(stderr, gwCfg.Log)
	hooks.WarnIfSet(logger)

	cli, err := devserver.EnsureCLI(ctx, cfg.CLI, stderr)
	if err != nil {
		return err
	}
	if cli == "" {
		return errors.New("no Temporal CLI: set TEMPORAL_CLI, put `temporal` on PATH, or run from the checkout to build it")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	devLog, err := os.OpenFile(filepath.Join(dataDir, "temporal.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer devLog.Close()

	fmt.Fprintf(stderr, "Starting the Temporal dev server (%s) ...\n", cli)
	srv, err := devserver.Start(ctx, devserver.Options{
		CLI: cli, IP: cfg.TemporalHost, Port: cfg.TemporalPort, UIPort: cfg.UIPort,
		Namespace: gwCfg.Temporal.Namespace,
		DBFile:    filepath.Join(dataDir, "temporal.db"),
		Output:    devLog,
	})
	if err != nil {
		return fmt.Errorf("%w (log: %s)", err, devLog.Name())
	}
	defer srv.Stop(10 * time.Second)

	tel, err := telemetry.New(ctx, gwCfg.Telemetry, logger)
	if err != nil {
		return fmt.Errorf("set up telemetry: %w", err)
	}
	defer tel.Close(ctx, 5*time.Second)
	// One client serves the worker and the gateway of this process.
	c, err := client.DialContext(ctx, executions.ClientOptions(tel.ClientOptions(temporalconn.ClientOptions(gwCfg.Temporal, logger))))
	if err != nil {
		return fmt.Errorf("connect to the dev server: %w", err)
	}
	defer c.Close()
	ln, err := net.Listen("tcp", gwCfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (set GATEWAY_HTTP_ADDR to use another address): %w", gwCfg.HTTPAddr, err)
	}

	bank, err := temporal.OpenBank(wkCfg.BankFile, temporal.SeedAccounts, hooks.BankDelay)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- temporal.RunWorker(ctx, c, wkCfg.Temporal.TaskQueue, wkCfg.ShutdownTimeout, bank) }()
	go func() { errc <- gateway.Serve(ctx, ln, gwCfg, handlers.NewSDK(c), tel, logger) }()

	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, `
Temporal HTTP gateway is running.
  Gateway      %[1]s  (contract: %[1]s/openapi.yaml)
  Temporal UI  http://%[2]s:%[3]d
  Temporal     %[4]s  namespace %[5]s, task queue %[6]s
  Data         %[7]s  (dev server log: %[8]s)

Try:
  curl -si -XPOST %[1]s/workflows -H 'content-type: application/json' \
    -d '{"workflowType":"Greeting","input":{"name":"Ada"}}'

Press Ctrl-C to stop everything.
`, base, cfg.TemporalHost, cfg.UIPort, gwCfg.Temporal.Address, gwCfg.Temporal.Namespace, gwCfg.Temporal.TaskQueue,
		filepath.Join(dataDir, "temporal.db"), devLog.Name())

	var runErr error
	pending := 2 // the worker and the gateway
	select {
	case <-ctx.Done():
	case <-srv.Done():
		runErr = fmt.Errorf("the Temporal dev server stopped; see %s", devLog.Name())
	case runErr = <-errc:
		pending--
	}
	fmt.Fprintln(stderr, "Stopping ...")
	cancel()
	for ; pending > 0; pending-- {
		if err := <-errc; err != nil && runErr == nil {
			runErr = err
		}
	}
	return runErr
}

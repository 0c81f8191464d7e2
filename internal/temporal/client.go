package temporal

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/temporalhttp/gateway/internal/config"
)

// ClientOptions are the options of the one Temporal client a process holds: the connection the
// configuration describes (address, namespace, TLS, API key) and the process's logger. Callers
// add metrics and interceptors.
func ClientOptions(cfg config.Temporal, logger *slog.Logger) client.Options {
	opts := cfg.Connection
	opts.HostPort = cfg.Address
	opts.Namespace = cfg.Namespace
	opts.Logger = sdklog.NewStructuredLogger(logger)
	return opts
}

// RunWorker hosts every workflow and activity of this project on the task queue until ctx ends,
// then stops, letting running activities finish within stopTimeout. MoneyTransfer's activities
// move money in bank.
func RunWorker(ctx context.Context, c client.Client, taskQueue string, stopTimeout time.Duration, bank *Bank) error {
	w := worker.New(c, taskQueue, worker.Options{WorkerStopTimeout: stopTimeout})
	Register(w, &Activities{Bank: bank})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on task queue %q: %w", taskQueue, err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

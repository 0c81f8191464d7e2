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

// ClientOptions are the options of the one Temporal client a process holds.
func ClientOptions(cfg config.Temporal, logger *slog.Logger) client.Options {
	return client.Options{
		HostPort:  cfg.Address,
		Namespace: cfg.Namespace,
		Logger:    sdklog.NewStructuredLogger(logger),
	}
}

// RunWorker hosts every workflow and activity of this project on the task queue until ctx ends,
// then stops, letting running activities finish within stopTimeout.
func RunWorker(ctx context.Context, c client.Client, taskQueue string, stopTimeout time.Duration) error {
	w := worker.New(c, taskQueue, worker.Options{WorkerStopTimeout: stopTimeout})
	Register(w, &Activities{Bank: NewBank(SeedAccounts)})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on task queue %q: %w", taskQueue, err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

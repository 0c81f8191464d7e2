package temporal

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

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

package config

import (
	"log/slog"
	"time"
)

// WorkerTestHooks are settings for the end-to-end tests only: they put a worker into states that
// a deployment never asks for, such as an activity held in the middle of its work. They are kept
// out of Worker, its production configuration, and loaded by their own function, so that run is
// the one place that passes them on; a deployment leaves them unset, and the worker warns at
// start when one is set.
type WorkerTestHooks struct {
	// BankDelay holds every ledger movement after it is recorded (WORKER_BANK_DELAY), so that the
	// end-to-end tests can kill a worker, or cancel a transfer, in the middle of an activity; the
	// activity heartbeats while it holds, so the cancel reaches it. Zero, the default, holds nothing.
	BankDelay time.Duration
}

// Set says whether any hook is set.
func (h WorkerTestHooks) Set() bool { return h != WorkerTestHooks{} }

// WarnIfSet logs, once at start, that the worker runs with a test hook set, in case one was left
// in a deployment's environment.
func (h WorkerTestHooks) WarnIfSet(logger *slog.Logger) {
	if h.Set() {
		logger.Warn("test hooks are set: they are for the end-to-end tests only", "bank_delay", h.BankDelay)
	}
}

// LoadWorkerTestHooks reads the worker's test hooks.
func LoadWorkerTestHooks(getenv func(string) string) (WorkerTestHooks, error) {
	r := reader{getenv: getenv}
	h := WorkerTestHooks{BankDelay: r.duration("WORKER_BANK_DELAY", 0)}
	if h.BankDelay < 0 {
		r.fail("WORKER_BANK_DELAY", "must not be negative")
	}
	return h, r.err()
}

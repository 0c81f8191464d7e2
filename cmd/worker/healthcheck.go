package main

import (
	"context"
	"errors"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

const healthcheckUsage = "usage: worker healthcheck [/readyz|/healthz] (default /readyz)"

// runHealthcheck asks the worker running beside it, on WORKER_METRICS_ADDR where it serves
// /healthz and /readyz beside /metrics, whether it is ready: `worker healthcheck` exits 0 when
// /readyz answers 200 (its Temporal client reaches Temporal), and 1 otherwise. It is the image's
// HEALTHCHECK; `/healthz` checks liveness only, for platforms that restart unhealthy containers.
func runHealthcheck(ctx context.Context, args []string, cfg config.Healthcheck) error {
	path, ok := telemetry.ProbePath(args)
	if !ok {
		return errors.New(healthcheckUsage)
	}
	return telemetry.ProbeHealth(ctx, cfg.Addr, path)
}

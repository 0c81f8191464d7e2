package main

import (
	"context"
	"errors"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

const healthcheckUsage = "usage: server healthcheck [/readyz|/healthz] (default /readyz)"

// runHealthcheck asks the gateway running beside it, on the port of GATEWAY_HTTP_ADDR, whether it
// is ready: `server healthcheck` exits 0 when /readyz answers 200, and 1 otherwise. It is the
// image's HEALTHCHECK, which cannot use curl on an image without a shell.
//
// Ready, not merely alive, is the default: Docker has one health status, and what reads it
// (`docker compose up --wait`, depends_on, a proxy that routes to healthy containers only) wants
// to know that the API can be served, which needs Temporal. The status recovers by itself once
// Temporal is back, since the gateway reconnects. Where unhealthy containers are restarted,
// `server healthcheck /healthz` checks liveness only: a restart never brings Temporal back.
func runHealthcheck(ctx context.Context, args []string, cfg config.Healthcheck) error {
	path, ok := telemetry.ProbePath(args)
	if !ok {
		return errors.New(healthcheckUsage)
	}
	return telemetry.ProbeHealth(ctx, cfg.Addr, path)
}

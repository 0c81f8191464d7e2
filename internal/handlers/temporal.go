package handlers

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/executions"
)

// TemporalClient is what the handlers need of Temporal: what the executions core needs, and a
// health check for /readyz. executions.SDK satisfies it in production; unit tests use a fake.
type TemporalClient interface {
	executions.Client
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

var _ TemporalClient = (*executions.SDK)(nil)

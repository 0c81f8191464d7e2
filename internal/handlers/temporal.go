package handlers

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/schedules"
)

// TemporalClient is what the handlers need of Temporal: what the executions core and the
// schedules core need, and a health check for /readyz. NewSDK satisfies it in production; unit
// tests use a fake.
type TemporalClient interface {
	executions.Client
	schedules.Client
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// SDK is TemporalClient over the SDK's client: each core's adapter, side by side.
type SDK struct {
	*executions.SDK
	*schedules.SDKClient
}

var _ TemporalClient = SDK{}

// NewSDK wraps c, which must have been made with executions.ClientOptions.
func NewSDK(c client.Client) SDK {
	return SDK{SDK: executions.NewSDK(c), SDKClient: schedules.NewSDKClient(c)}
}

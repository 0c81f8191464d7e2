package handlers

import (
	"context"

	"github.com/temporalhttp/gateway/internal/gen"
)

// GetMetrics serves the gateway's Prometheus metrics.
// TODO(issue 4): serve the registry; until then the route answers 404.
func (s *Server) GetMetrics(context.Context, gen.GetMetricsRequestObject) (gen.GetMetricsResponseObject, error) {
	return nil, newProblem(404, problemNotFound, "Not found", "Metrics are not served yet.")
}

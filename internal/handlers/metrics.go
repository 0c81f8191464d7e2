package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/common/expfmt"

	"github.com/temporalhttp/gateway/internal/gen"
)

// GetMetrics serves the gateway's Prometheus metrics in the text exposition format.
func (s *Server) GetMetrics(ctx context.Context, _ gen.GetMetricsRequestObject) (gen.GetMetricsResponseObject, error) {
	if s.opts.Metrics == nil {
		return nil, newProblem(http.StatusNotFound, problemNotFound, "Not found", "This gateway keeps no metrics.")
	}
	families, gatherErr := s.opts.Metrics.Gather()
	if gatherErr != nil {
		if len(families) == 0 {
			return nil, fmt.Errorf("gather metrics: %w", gatherErr)
		}
		// One failing collector should not hide the others (what promhttp calls ContinueOnError).
		s.opts.Logger.WarnContext(ctx, "some metrics could not be gathered", "error", gatherErr)
	}
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("encode metric family %q: %w", mf.GetName(), err)
		}
	}
	return metricsText{body: buf.Bytes(), contentType: string(format)}, nil
}

// metricsText answers with the exposition format's own content type, which names its version
// (text/plain; version=0.0.4): the generated text/plain answer leaves it out, and scrapers use it
// to pick their parser.
type metricsText struct {
	body        []byte
	contentType string
}

func (m metricsText) VisitGetMetricsResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", m.contentType)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(m.body)
	return err
}

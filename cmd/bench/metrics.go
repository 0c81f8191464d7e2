package main

import (
	"fmt"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metrics is one scrape of the gateway's /metrics.
type metrics map[string]*dto.MetricFamily

func scrape(base string) (metrics, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return nil, fmt.Errorf("GET %s/metrics: %s", base, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// sum adds up the counters and gauges of the named family whose labels include labels.
func (m metrics) sum(name string, labels map[string]string) float64 {
	var total float64
	for _, s := range m[name].GetMetric() {
		have := map[string]string{}
		for _, l := range s.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if match {
			total += s.GetCounter().GetValue() + s.GetGauge().GetValue()
		}
	}
	return total
}

// histogramCount adds up the sample counts of the named histogram family.
func (m metrics) histogramCount(name string) float64 {
	var total float64
	for _, s := range m[name].GetMetric() {
		total += float64(s.GetHistogram().GetSampleCount())
	}
	return total
}

// longPollsInFlight is how many long polls the gateway's Temporal client has begun and not yet
// finished: the SDK counts a request when it begins and records its latency when it ends.
func (m metrics) longPollsInFlight() int {
	return int(m.sum(temporalLongPolls, nil) - m.histogramCount(temporalLongPollLatency))
}

// The Temporal client's own counters in the gateway's /metrics: every call it made to Temporal,
// the long polls apart.
const (
	temporalCalls     = "temporal_request_total"
	temporalLongPolls = "temporal_long_request_total"
	// temporalLongPollLatency is recorded as each long poll ends (the exporter adds the unit;
	// ..._latency_attempt_seconds is the same per attempt).
	temporalLongPollLatency = "temporal_long_request_latency_seconds"
)

// temporalCallsSince counts the gateway's calls to Temporal between two scrapes: operation ""
// counts them all.
func temporalCallsSince(before, after metrics, family, operation string) int {
	labels := map[string]string{}
	if operation != "" {
		labels["operation"] = operation
	}
	return int(after.sum(family, labels) - before.sum(family, labels))
}

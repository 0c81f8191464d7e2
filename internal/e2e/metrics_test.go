package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// scrapeMetrics GETs url and parses it as Prometheus does.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := tryScrape(url)
	require.NoError(t, err)
	return families
}

func tryScrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return nil, fmt.Errorf("GET %s: %s, Content-Type %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: not the Prometheus text format: %w", url, err)
	}
	return families, nil
}

// metricSum adds up the series of the named family whose labels include labels: counters,
// gauges, and the sample counts of histograms.
func metricSum(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	var sum float64
	for _, m := range families[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if match {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// TestMetricsShowRoutesAndTheTemporalClient scripts a start with wait and a read against the
// suite's gateway process; its /metrics then counts both by route pattern, and shows the
// Temporal client's own calls: the start, and the long poll the wait rode.
func TestMetricsShowRoutesAndTheTemporalClient(t *testing.T) {
	url := gatewayURL + "/metrics"
	before := scrapeMetrics(t, url)

	id := uniqueID(t)
	r, err := api(t).StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("20s")},
		client.StartWorkflowRequest{WorkflowType: "Greeting", WorkflowId: &id, Input: rawJSON(`{"name":"Metrics"}`)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	get(t, id, nil)

	after := scrapeMetrics(t, url)
	grew := func(name string, labels map[string]string) float64 {
		return metricSum(after, name, labels) - metricSum(before, name, labels)
	}
	started := map[string]string{"route": "/workflows", "method": "POST", "status": "201"}
	read := map[string]string{"route": "/workflows/{workflowId}", "method": "GET", "status": "200"}
	assert.GreaterOrEqual(t, grew("gateway_http_requests_total", started), 1.0)
	assert.GreaterOrEqual(t, grew("gateway_http_requests_total", read), 1.0)
	assert.GreaterOrEqual(t, grew("gateway_http_request_duration_seconds", started), 1.0)
	assert.Zero(t, metricSum(after, "gateway_http_requests_total", map[string]string{"route": "/workflows/" + id}),
		"no series is labelled with a raw path")
	assert.GreaterOrEqual(t, grew("temporal_request_total", map[string]string{"operation": "StartWorkflowExecution"}), 1.0,
		"the Temporal client's metrics")
	assert.GreaterOrEqual(t, grew("temporal_long_request_total", map[string]string{"operation": "GetWorkflowExecutionHistory"}), 1.0,
		"the wait rode a long poll")
	assert.Contains(t, after, "go_goroutines")
}

// TestWorkerServesItsMetrics runs a worker process with WORKER_METRICS_ADDR on a task queue of
// its own: once it has run a Greeting, its /metrics shows the workflow and the activity.
func TestWorkerServesItsMetrics(t *testing.T) {
	port, err := freePort()
	require.NoError(t, err)
	queue := uniqueID(t)
	w, err := startProcess(filepath.Join(binDir, "worker"), []string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + queue, "LOG_LEVEL=warn",
		fmt.Sprintf("WORKER_METRICS_ADDR=127.0.0.1:%d", port),
	}, os.Stderr)
	require.NoError(t, err)
	defer w.stop()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	id := uniqueID(t)
	r, err := api(t).StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("20s")},
		client.StartWorkflowRequest{WorkflowType: "Greeting", WorkflowId: &id, TaskQueue: &queue, Input: rawJSON(`{"name":"Worker"}`)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	require.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON201.Status, "the worker on %s ran it", queue)

	var (
		families  map[string]*dto.MetricFamily
		scrapeErr error
	)
	counted := assert.Eventually(t, func() bool {
		families, scrapeErr = tryScrape(url)
		return metricSum(families, "temporal_workflow_completed_total", map[string]string{"workflow_type": "Greeting"}) >= 1
	}, 10*time.Second, 200*time.Millisecond, "the worker's metrics count the completed workflow")
	require.True(t, counted, "last scrape error: %v", scrapeErr)
	assert.GreaterOrEqual(t, metricSum(families, "temporal_activity_execution_latency_seconds", map[string]string{"activity_type": "ComposeGreeting"}), 1.0)
	assert.Contains(t, families, "process_resident_memory_bytes")
}

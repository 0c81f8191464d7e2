package e2e

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// temporalHealthChecks counts the gRPC health checks (grpc.health.v1.Health/Check, what the SDK's
// CheckHealth calls) that the dev server's frontend has answered, from its own metrics, once its
// metrics reporter, which publishes on an interval, has caught up.
func temporalHealthChecks(t *testing.T) float64 {
	t.Helper()
	time.Sleep(1500 * time.Millisecond)
	return metricSum(scrapeMetrics(t, temporalMetrics), "service_latency", map[string]string{"operation": "Check", "service_name": "frontend"})
}

// TestReadinessProbeFloodIsNotATemporalFlood fires 200 concurrent GET /readyz at a gateway process
// and at a worker process of this test's own, and counts the health checks the dev server
// answered meanwhile: every probe is answered 200, and Temporal sees about one check a second,
// not one per probe.
func TestReadinessProbeFloodIsNotATemporalFlood(t *testing.T) {
	port, err := freePort()
	require.NoError(t, err)
	w, err := startProcess(filepath.Join(binDir, "worker"), []string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + uniqueID(t), "LOG_LEVEL=warn",
		fmt.Sprintf("WORKER_METRICS_ADDR=127.0.0.1:%d", port),
	}, os.Stderr)
	require.NoError(t, err)
	t.Cleanup(w.stop)

	for _, tc := range []struct {
		name string
		base string
	}{
		{"gateway", startGuardedGateway(t)},
		{"worker", fmt.Sprintf("http://127.0.0.1:%d", port)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, waitReady(tc.base))
			before := temporalHealthChecks(t)

			const probes = 200
			began := time.Now()
			statuses := make([]int, probes)
			var wg sync.WaitGroup
			for i := range probes {
				wg.Go(func() {
					resp, err := http.Get(tc.base + "/readyz")
					if err != nil {
						t.Errorf("probe %d: %v", i, err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			took := time.Since(began)
			checks := temporalHealthChecks(t) - before

			for i, status := range statuses {
				assert.Equal(t, http.StatusOK, status, "probe %d", i)
			}
			// One check per second the probes took, and one more for a second boundary.
			limit := math.Ceil(took.Seconds()) + 1
			t.Logf("%d concurrent probes in %s cost Temporal %.0f health checks (at most %.0f allowed)", probes, took.Round(time.Millisecond), checks, limit)
			assert.LessOrEqual(t, checks, limit, "the probes became Temporal calls")
		})
	}
}

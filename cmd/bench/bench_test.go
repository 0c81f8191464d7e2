package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBenchSmoke runs the whole benchmark with tiny counts against its own dev server, worker and
// gateway. It checks that every path answers and that the checks which do not depend on the
// machine's speed hold: one long poll per execution, and a closed read without Temporal.
func TestBenchSmoke(t *testing.T) {
	if os.Getenv("TEMPORAL_CLI") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEMPORAL_CLI is not set: in CI the benchmark's smoke test must run (make e2e sets it)")
		}
		t.Skip("set TEMPORAL_CLI (TEMPORAL_CLI=\"$(go run ./cmd/dev cli)\") to run the benchmark's smoke test")
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"bench", "-duration", "500ms", "-rounds", "1", "-concurrency", "2", "-readers", "20", "-executions", "4"},
		os.Getenv, strings.NewReader(""), &stdout, &stderr)
	require.NoError(t, err, "stderr:\n%s", stderr.String())
	out := stdout.String()
	t.Log(out)
	for _, path := range []string{"Go SDK (own process): ExecuteWorkflow ", "Go SDK (own process), no gRPC compression ", "Temporal HTTP API: POST", "gateway: POST /workflows ",
		"gateway, Prefer: return=minimal ", "Go SDK (own process): ExecuteWorkflow + Get", "gateway: POST /workflows?wait=30s"} {
		assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(path)+`.*\s+[1-9]\d*\s+0\s+\d`, out, "%s: some requests, no errors", path)
	}
	assert.Contains(t, out, "CPU per start, gateway / bare SDK client")
	assert.Contains(t, out, "CPU per start, gateway (return=minimal) / bare SDK client")
	for _, protocol := range []string{"HTTP/1.1, a connection per reader", "HTTP/2 (h2c), 100 connections"} {
		assert.Regexp(t, `20 waiting readers over 4 executions, `+regexp.QuoteMeta(protocol)+`, \d+ started per second \(GET \{Location\}[^)]*\)\s+all waiting after .*; 20 answered at the close, 0 failed`, out)
	}
	assert.Regexp(t, `gateway memory per waiting reader .*\s+-?[\d.]+ KB\s+<= 45 KB`, out)
	assert.Regexp(t, `gateway RSS with them waiting \(peak of this gateway\)\s+\d+ MB \(\d+ MB\)\s+<= 300 MB`, out)
	assert.Len(t, regexp.MustCompile(`Temporal long polls in flight per execution, readers waiting\s+1\.00 \(4\)\s+<= 1\s+met`).FindAllString(out, -1), 2)
	assert.Len(t, regexp.MustCompile(`closed run by runId\s+0 \(HTTP 200\)\s+0\s+met`).FindAllString(out, -1), 2)
}

// TestClusterBenchSmoke runs the benchmark on the local multi-service cluster with tiny counts.
// It checks that every path answers, that the second gateway takes its share of the round robin,
// and that PostgreSQL's figure holds its backends. It brings the cluster up, so it runs only in
// `make cluster-test` (CLUSTER_TEST=1).
func TestClusterBenchSmoke(t *testing.T) {
	if os.Getenv("CLUSTER_TEST") == "" {
		fmt.Fprintln(os.Stderr, "bench: SKIPPED TestClusterBenchSmoke: set CLUSTER_TEST=1 (make cluster-test) to run the benchmark on the multi-service cluster")
		t.Skip("set CLUSTER_TEST=1 (make cluster-test) to run the benchmark on the multi-service cluster")
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"bench", "-cluster", "-duration", "500ms", "-rounds", "1", "-concurrency", "2"},
		os.Getenv, strings.NewReader(""), &stdout, &stderr)
	require.NoError(t, err, "stderr:\n%s", stderr.String())
	out := stdout.String()
	t.Log(out)
	assert.Regexp(t, `(?m)^path\s+requests\s+errors\s+p50\s+p99\s+throughput\s+client\s+gateway-1\s+gateway-2\s+frontend\s+history\s+matching\s+worker\s+postgres\s+total$`, out)
	// A row's CPU columns, in the header's order: client, gateway-1, gateway-2, frontend, history,
	// matching, worker, postgres, total.
	cpu := func(label string) [][]string {
		re := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(label) + `\s+[1-9]\d*\s+0\s+\S+ ms\s+\S+ ms\s+\d+/s` + strings.Repeat(`\s+(\d+) µs`, 9) + `$`)
		rows := re.FindAllStringSubmatch(out, -1)
		assert.Len(t, rows, 2, "%s: a row at concurrency 2 and one at 1, each with some requests and no errors", label)
		return rows
	}
	positive := func(label, column, figure string) {
		assert.NotEqual(t, "0", figure, "%s: %s CPU per request", label, column)
	}
	for _, label := range []string{"Go SDK (own process): ExecuteWorkflow", "Temporal HTTP API: POST /api/v1/namespaces/{ns}/workflows/{id}",
		"gateway: POST /workflows, one gateway", "gateway: POST /workflows, round robin over two gateways"} {
		for _, row := range cpu(label) {
			positive(label, "client", row[1])
			positive(label, "history", row[5])
			positive(label, "postgres", row[8])
			if strings.HasPrefix(label, "gateway") {
				positive(label, "gateway-1", row[2])
			}
			if strings.Contains(label, "two gateways") {
				positive(label, "gateway-2", row[3])
			}
		}
	}
	for _, c := range []int{2, 1} {
		assert.Regexp(t, fmt.Sprintf(`two gateways / one gateway start throughput, concurrency %d\s+\d+\.\d\d`, c), out)
		assert.Regexp(t, fmt.Sprintf(`CPU per start of the gateways, two gateways / bare SDK client, concurrency %d\s+\d+ µs / \d+ µs`, c), out)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var s sample
	for i := 100; i >= 1; i-- {
		s.Latencies = append(s.Latencies, time.Duration(i)*time.Millisecond)
	}
	s.Elapsed = 2 * time.Second
	assert.Equal(t, 50*time.Millisecond, s.percentile(0.5))
	assert.Equal(t, 99*time.Millisecond, s.percentile(0.99))
	assert.Equal(t, 100*time.Millisecond, s.percentile(1))
	assert.InDelta(t, 50, s.throughput(), 1e-9)
	assert.Zero(t, sample{}.percentile(0.5))
}

func TestProcReadsThisProcess(t *testing.T) {
	// Burn some CPU so that the clock-tick counters move.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	cpu, err := cpuTime(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, cpu)
	rss, peak, err := memory(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, rss)
	assert.GreaterOrEqual(t, peak, rss)
}

// TestProcTreeCountsChildren checks that a process's figure holds what its children spent, those
// that have ended included, as PostgreSQL's must hold its backends'.
func TestProcTreeCountsChildren(t *testing.T) {
	// The inner shell burns CPU and ends; the outer one reaps it and sleeps, spending next to none.
	cmd := exec.Command("sh", "-c", `sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'; exec sleep 30`)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	var tree cpuSet
	require.Eventually(t, func() bool {
		// The outer shell runs sleep once it has reaped the burner: only cutime holds its time then.
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || string(comm) != "sleep\n" {
			return false
		}
		// Errors are retried: Eventually's condition runs on a goroutine of its own, where
		// require must not stop the test.
		var err error
		if tree, err = treeCPU(map[string]int{"sh": pid}); err != nil {
			return false
		}
		own, err := cpuTime(pid)
		return err == nil && tree["sh"] >= 50*time.Millisecond && own < tree["sh"]/2
	}, 20*time.Second, 50*time.Millisecond, "the reaped child's CPU shows in the tree: %v", tree)

	_, err := treeCPU(map[string]int{"gone": 1 << 30})
	assert.Error(t, err, "a root that is not running")
}

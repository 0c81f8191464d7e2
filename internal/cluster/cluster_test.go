//go:build linux

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/config"
)

// TestClusterSmoke brings the whole cluster up twice, the first time from an empty binary cache
// (cold: temporal-server and temporal-sql-tool are built, from Go's build cache when it is warm),
// the second from that cache (warm), and each time runs a Greeting through one gateway and reads
// it through the other. It takes a minute or more, so it runs only in `make cluster-test`
// (CLUSTER_TEST=1), which `make test` runs after the end-to-end tests.
func TestClusterSmoke(t *testing.T) {
	if os.Getenv("CLUSTER_TEST") == "" {
		fmt.Fprintln(os.Stderr, "cluster: SKIPPED TestClusterSmoke: set CLUSTER_TEST=1 (make cluster-test) to run the multi-service cluster")
		t.Skip("set CLUSTER_TEST=1 (make cluster-test) to run the multi-service cluster")
	}
	cfg, err := config.LoadCluster(os.Getenv)
	require.NoError(t, err)
	cfg.CLI.CacheDir = t.TempDir()

	for _, round := range []string{"cold", "warm"} {
		t.Run(round, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
			defer cancel()
			start := time.Now()
			dir, err := os.MkdirTemp("", "cluster-smoke-")
			require.NoError(t, err)
			t.Cleanup(func() { keepOnFailure(t, dir) })
			c, err := Up(ctx, Options{Config: cfg, Dir: dir, Workers: 2, Gateways: 2, Progress: testWriter{t}})
			require.NoError(t, err)
			up := time.Since(start)
			defer c.Stop()
			tm := c.Timings
			fmt.Printf("cluster %s setup: %s total; server build %s, PostgreSQL %s, schema %s, services %s, namespace ready %s, product %s\n",
				round, up.Round(time.Millisecond), tm.ServerBuild.Round(time.Millisecond), tm.Postgres.Round(time.Millisecond),
				tm.Schema.Round(time.Millisecond), tm.Services.Round(time.Millisecond), tm.Namespace.Round(time.Millisecond),
				tm.Product.Round(time.Millisecond))
			require.Len(t, c.GatewayURLs, 2)

			id := "cluster-smoke-" + round
			a, b := c.GatewayURLs[0], c.GatewayURLs[1]
			status, body := call(t, http.MethodPost, a+"/workflows?wait=60s",
				fmt.Sprintf(`{"workflowType":"Greeting","workflowId":%q,"input":{"name":"Ada"}}`, id))
			require.Equal(t, http.StatusCreated, status, "start through gateway A: %s", body)
			assert.Equal(t, "COMPLETED", body["status"], "gateway A waited for the result: %v", body)

			status, body = call(t, http.MethodGet, b+"/workflows/"+id+"?wait=30s", "")
			require.Equal(t, http.StatusOK, status, "read through gateway B: %v", body)
			assert.Equal(t, "COMPLETED", body["status"])
			assert.Equal(t, map[string]any{"greeting": "Hello, Ada!"}, body["result"], "gateway B reads the result gateway A started")
			require.NoError(t, c.Exited(), "every process of the cluster still runs")

			// Four processes, four members of the ring, one per service, as each wrote itself
			// into the membership table that they share.
			roles := psql(t, c, "SELECT role, count(*) FROM cluster_membership WHERE record_expiry > now() GROUP BY role ORDER BY role")
			assert.Equal(t, "1|1\n2|1\n3|1\n4|1", roles, "one live member of each role: frontend, history, matching, worker")
		})
	}
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// psql runs a query on the cluster's temporal database with PostgreSQL's own client, beside the
// server's binaries, and returns its unaligned output.
func psql(t *testing.T, c *Cluster, query string) string {
	t.Helper()
	bin, err := postgresBin(os.Getenv("CLUSTER_POSTGRES_BIN"))
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), filepath.Join(bin, "psql"), "-X", "-A", "-t", "-h", c.Postgres.Host,
		"-p", strconv.Itoa(c.Postgres.Port), "-U", c.Postgres.User, "-d", "temporal", "-c", query)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+c.Postgres.Password)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "psql: %s", out)
	return strings.TrimSpace(string(out))
}

// keepOnFailure removes a cluster's directory, or keeps it for its logs when the test failed.
func keepOnFailure(t *testing.T, dir string) {
	if t.Failed() {
		fmt.Fprintf(os.Stderr, "cluster: the logs of %s are kept in %s\n", t.Name(), dir)
		return
	}
	_ = os.RemoveAll(dir)
}

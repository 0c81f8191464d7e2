package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/temporalhttp/gateway/internal/cluster"
	"github.com/temporalhttp/gateway/internal/config"
)

// The cluster's processes whose CPU the table shows, by the names cluster.PIDs gives them:
// "worker" is Temporal's worker service (the cluster runs none of the product's workers here).
var (
	clusterGateways = []string{"gateway-1", "gateway-2"}
	clusterTemporal = []string{"frontend", "history", "matching", "worker", "postgres"}
)

// startClusterStack runs the stack on the local multi-service cluster: PostgreSQL, Temporal's
// four services as four processes, and two gateways with docker-compose.yml's environment and the
// bench's additions. No product worker runs: the start scenarios use a queue that no worker polls.
func startClusterStack(ctx context.Context, cfg config.Cluster, s settings, progress io.Writer) (st *stack, err error) {
	if cfg.PostgresURL != nil {
		// The CPU of a PostgreSQL run elsewhere cannot be read here.
		return nil, errors.New("the benchmark counts PostgreSQL's CPU, so it runs its own: unset CLUSTER_POSTGRES_URL")
	}
	st = &stack{onCluster: true}
	defer func() {
		if err != nil {
			st.stop()
		}
	}()
	if err := st.makeDirs("cluster", progress); err != nil {
		return st, err
	}
	fmt.Fprintln(progress, "bench: building the SDK client ...")
	if err := st.build(ctx, "", "./cmd/bench"); err != nil {
		return st, err
	}
	c, err := cluster.Up(ctx, cluster.Options{Config: cfg, Dir: st.logDir, Gateways: len(clusterGateways), Progress: progress,
		GatewayEnv: benchGatewayEnv(s)})
	if err != nil {
		return st, err
	}
	st.stopActions = append(st.stopActions, c.Stop, func() {
		// The cluster builds its binaries among its logs; a failed run keeps the logs only.
		_ = os.RemoveAll(filepath.Join(st.logDir, "bin"))
	})
	if c.Namespace != namespace {
		return st, fmt.Errorf("the cluster's namespace is %q; the benchmark starts in %q", c.Namespace, namespace)
	}
	st.temporal = c.Frontend
	st.nativeHTTP = fmt.Sprintf("http://127.0.0.1:%d", c.FrontendHTTP)
	st.gatewayURLs = c.GatewayURLs
	if st.client, err = client.DialContext(ctx, client.Options{HostPort: c.Frontend, Namespace: namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}); err != nil {
		return st, err
	}
	st.stopActions = append(st.stopActions, st.client.Close)

	// Each process's figure holds its descendants': PostgreSQL's backends in the postmaster's.
	pids := c.PIDs()
	roots := map[string]int{}
	st.processes = slices.Concat(clusterGateways, clusterTemporal)
	for _, name := range st.processes {
		if roots[name] = pids[name]; roots[name] == 0 {
			return st, fmt.Errorf("the cluster runs no %s", name)
		}
	}
	st.temporalProcs = clusterTemporal
	st.cpuOf = func() (cpuSet, error) { return treeCPU(roots) }
	fmt.Fprintf(progress, "bench: cluster frontend %s (HTTP API %s), gateways %v, processes %v\n",
		st.temporal, st.nativeHTTP, st.gatewayURLs, pids)
	return st, nil
}

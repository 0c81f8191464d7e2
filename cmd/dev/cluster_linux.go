package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/temporalhttp/gateway/internal/cluster"
	"github.com/temporalhttp/gateway/internal/config"
)

// runCluster runs the production shape on this machine (`dev cluster`, `make cluster`):
// PostgreSQL, Temporal's four services as four processes, two workers and two gateways.
func runCluster(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	cfg, err := config.LoadCluster(getenv)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "temporal-cluster-")
	if err != nil {
		return err
	}
	// Kept when something failed, for its logs.
	defer func() {
		if err == nil {
			_ = os.RemoveAll(dir)
		} else {
			err = fmt.Errorf("%w (logs kept in %s)", err, dir)
		}
	}()
	c, err := cluster.Up(ctx, cluster.Options{Config: cfg, Dir: dir, Workers: 2, Gateways: 2, Progress: stderr})
	if err != nil {
		return err
	}
	defer c.Stop()

	var services strings.Builder
	for _, svc := range cluster.Services {
		p := c.Ports[svc]
		fmt.Fprintf(&services, "  %-9s gRPC 127.0.0.1:%d  membership 127.0.0.1:%d  log %s/%s.log\n", svc, p.GRPC, p.Membership, dir, svc)
	}
	pg := fmt.Sprintf("%s:%d (user %s)", c.Postgres.Host, c.Postgres.Port, c.Postgres.User)
	t := c.Timings
	fmt.Fprintf(stdout, `
Temporal cluster is running: four services on PostgreSQL, two workers, two gateways.
  Gateway A    %[1]s
  Gateway B    %[2]s
  Workers      %[16]s  (/readyz, /metrics)
  Frontend     %[3]s  (HTTP API port %[4]d)  namespace %[5]s, task queue %[6]s
  PostgreSQL   %[7]s  databases temporal, temporal_visibility
%[8]s  Files        %[9]s  (config/cluster.yaml, postgres.log, worker-N.log, gateway-N.log; removed on a clean exit)
  Setup        server build %[10]s, PostgreSQL %[11]s, schema %[12]s, services %[13]s, namespace %[14]s, product %[15]s

Try:
  curl -s -XPOST '%[1]s/workflows?wait=30s' -H 'content-type: application/json' \
    -d '{"workflowType":"Greeting","workflowId":"greet-ada","input":{"name":"Ada"}}'
  curl -s '%[2]s/workflows/greet-ada'

Press Ctrl-C to stop everything.
`, c.GatewayURLs[0], c.GatewayURLs[1], c.Frontend, c.FrontendHTTP, c.Namespace, c.TaskQueue, pg, services.String(), dir,
		t.ServerBuild.Round(1e6), t.Postgres.Round(1e6), t.Schema.Round(1e6), t.Services.Round(1e6), t.Namespace.Round(1e6), t.Product.Round(1e6),
		strings.Join(c.WorkerHealthURLs, ", "))

	// A process that dies on its own stops the whole cluster, rather than leaving it half up.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stderr, "Stopping ...")
			return nil
		case <-tick.C:
			if err := c.Exited(); err != nil {
				fmt.Fprintln(stderr, "Stopping ...")
				return err
			}
		}
	}
}

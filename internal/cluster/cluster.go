//go:build linux

// Package cluster runs Temporal as a multi-service cluster on this machine, in the shape of
// docker-compose.yml: PostgreSQL, the four services as four temporal-server processes with real
// membership between them, and the product's workers and gateways on top, all on loopback and all
// built from the versions tools/temporal pins.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/devserver"
)

// Options say what to run.
type Options struct {
	Config config.Cluster
	// Dir holds everything the cluster writes: PostgreSQL's data, the rendered config, logs and
	// the product's binaries. It must exist and be empty.
	Dir string
	// Workers and Gateways are how many of each of the product's processes to run.
	Workers, Gateways int
	// Progress receives what the cluster is doing, and the builds' progress.
	Progress io.Writer
}

// Timings are how long each step of Up took.
type Timings struct {
	ServerBuild, Postgres, Schema, Services, Namespace, Product time.Duration
}

// Cluster is a running cluster. Stop it.
type Cluster struct {
	// Frontend is the frontend's gRPC address, where the SDK and the CLI connect.
	Frontend string
	// FrontendHTTP is the frontend's HTTP API port.
	FrontendHTTP int
	// Ports are each service's gRPC and membership ports.
	Ports map[string]ServicePorts
	// Postgres is where the databases are.
	Postgres *Postgres
	// GatewayURLs are the product's gateways, one per Options.Gateways.
	GatewayURLs []string
	Namespace   string
	TaskQueue   string
	Timings     Timings
	Dir         string

	services []*process
	product  []*process
}

// Up starts everything and returns once every gateway is ready. On error it stops what it started.
func Up(ctx context.Context, opts Options) (*Cluster, error) {
	c := &Cluster{Dir: opts.Dir, Namespace: "default", TaskQueue: "cluster", Ports: map[string]ServicePorts{}}
	started := false
	defer func() {
		if !started {
			c.Stop()
		}
	}()
	progress := opts.Progress
	step := func(d *time.Duration, what string, f func() error) error {
		fmt.Fprintf(progress, "cluster: %s ...\n", what)
		t := time.Now()
		err := f()
		*d = time.Since(t)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Fprintf(progress, "cluster: %s: done in %s\n", what, d.Round(time.Millisecond))
		return nil
	}
	log, err := os.Create(filepath.Join(opts.Dir, "cluster.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()

	var tools devserver.ServerTools
	if err := step(&c.Timings.ServerBuild, "find or build temporal-server and temporal-sql-tool", func() error {
		tools, err = devserver.EnsureServer(ctx, opts.Config.CLI, progress)
		return err
	}); err != nil {
		return nil, err
	}

	ports, err := freePorts(12)
	if err != nil {
		return nil, err
	}
	take := func() int { p := ports[0]; ports = ports[1:]; return p }

	if err := step(&c.Timings.Postgres, "start PostgreSQL", func() error {
		if u := opts.Config.PostgresURL; u != nil {
			c.Postgres, err = existingPostgres(u)
			return err
		}
		c.Postgres, err = startPostgres(ctx, opts.Config.PostgresBin, take(), log)
		return err
	}); err != nil {
		return nil, err
	}
	if err := step(&c.Timings.Schema, "create and migrate the databases", func() error {
		return setupSchema(ctx, tools.SQLTool, tools.ModuleDir, c.Postgres)
	}); err != nil {
		return nil, err
	}

	if err := step(&c.Timings.Services, "start the four Temporal services", func() error {
		for _, svc := range Services {
			c.Ports[svc] = ServicePorts{GRPC: take(), Membership: take()}
		}
		c.FrontendHTTP = take()
		c.Frontend = fmt.Sprintf("127.0.0.1:%d", c.Ports["frontend"].GRPC)
		if err := renderConfig(tools.ModuleDir, opts.Dir, c.Postgres, c.Ports, c.FrontendHTTP); err != nil {
			return err
		}
		c.services, err = startServices(ctx, tools.Server, opts.Dir, c.Ports)
		return err
	}); err != nil {
		return nil, err
	}
	if err := step(&c.Timings.Namespace, "register namespace "+c.Namespace+" and wait until a workflow can start", func() error {
		return registerNamespace(ctx, c.Frontend, c.Namespace, opts.Dir, c.services)
	}); err != nil {
		return nil, err
	}
	if err := step(&c.Timings.Product, fmt.Sprintf("build and start %d workers and %d gateways", opts.Workers, opts.Gateways), func() error {
		return c.startProduct(ctx, opts, log)
	}); err != nil {
		return nil, err
	}
	started = true
	return c, nil
}

// startProduct builds cmd/worker and cmd/server from this checkout and runs them on the cluster.
func (c *Cluster) startProduct(ctx context.Context, opts Options, log io.Writer) error {
	root, err := devserver.RepoRoot()
	if err != nil {
		return err
	}
	binDir := filepath.Join(opts.Dir, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", binDir+string(filepath.Separator), "./cmd/server", "./cmd/worker")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the worker and the gateway: %w\n%s", err, out)
	}
	env := []string{"TEMPORAL_ADDRESS=" + c.Frontend, "TEMPORAL_NAMESPACE=" + c.Namespace,
		"TEMPORAL_TASK_QUEUE=" + c.TaskQueue, "LOG_LEVEL=warn"}
	for i := range opts.Workers {
		p, err := start(fmt.Sprintf("worker-%d", i+1), log, nil, "", env, filepath.Join(binDir, "worker"))
		if err != nil {
			return err
		}
		c.product = append(c.product, p)
	}
	ports, err := freePorts(opts.Gateways)
	if err != nil {
		return err
	}
	for i, port := range ports {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		p, err := start(fmt.Sprintf("gateway-%d", i+1), log, nil, "", append(env, "GATEWAY_HTTP_ADDR="+addr),
			filepath.Join(binDir, "server"))
		if err != nil {
			return err
		}
		c.product = append(c.product, p)
		c.GatewayURLs = append(c.GatewayURLs, "http://"+addr)
	}
	for i, url := range c.GatewayURLs {
		if err := waitReady(ctx, url, c.product[opts.Workers+i]); err != nil {
			return err
		}
	}
	return nil
}

// probeClient bounds each readiness probe: a gateway that accepts and never answers must not
// hold the wait past its deadline.
var probeClient = &http.Client{Timeout: 5 * time.Second}

func waitReady(ctx context.Context, base string, p *process) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		resp, err := probeClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if done, perr := p.exited(); done {
			return fmt.Errorf("%s exited (%v); see cluster.log", p.name, perr)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return errors.Join(ctx.Err(), fmt.Errorf("%s at %s not ready within 60s: %w", p.name, base, err))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Exited reports the first child that has ended on its own, or nil.
func (c *Cluster) Exited() error {
	for _, p := range append(append([]*process{}, c.services...), c.product...) {
		if done, err := p.exited(); done {
			return fmt.Errorf("%s exited (%v)", p.name, err)
		}
	}
	if c.Postgres != nil && c.Postgres.proc != nil {
		if done, err := c.Postgres.proc.exited(); done {
			return fmt.Errorf("postgres exited (%v)", err)
		}
	}
	return nil
}

// Stop stops everything in the reverse order of start: the product, the services, PostgreSQL.
// It leaves Dir to its owner.
func (c *Cluster) Stop() {
	for i := len(c.product) - 1; i >= 0; i-- {
		c.product[i].stop(syscall.SIGTERM, 20*time.Second)
	}
	for i := len(c.services) - 1; i >= 0; i-- {
		c.services[i].stop(syscall.SIGTERM, 20*time.Second)
	}
	c.Postgres.stop()
}

// freePorts finds n distinct free loopback ports, holding each until all are found. They come
// from below the kernel's ephemeral range (32768 and up) on purpose: Temporal keeps each member's
// ringpop port in cluster_membership.rpc_port, a PostgreSQL smallint, and a service on a port above
// 32767 dies at start ("value out of range for type smallint").
func freePorts(n int) ([]int, error) {
	const low, high = 20000, 32767
	var ports []int
	next := low + rand.IntN(high-low)
	for tried := 0; len(ports) < n; tried++ {
		if tried > high-low {
			return nil, fmt.Errorf("fewer than %d free loopback ports in %d-%d", n, low, high)
		}
		port := low + (next-low+tried)%(high-low)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		defer ln.Close()
		ports = append(ports, port)
	}
	return ports, nil
}

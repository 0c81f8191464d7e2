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
	"strings"
	"sync"
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
	// GatewayEnv and WorkerEnv are added to the environment docker-compose.yml gives each gateway
	// and worker (KEY=VALUE), after it: the benchmark's and the tests' own settings.
	GatewayEnv, WorkerEnv []string
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
	// WorkerHealthURLs are where each worker serves /readyz and /metrics.
	WorkerHealthURLs []string
	Namespace        string
	TaskQueue        string
	Timings          Timings
	Dir              string

	// mu guards the processes, which Kill and Restart replace.
	mu       sync.Mutex
	services []*process
	product  []*process
	// env is what docker-compose.yml gives the gateway, the worker and Temporal.
	env productEnv
	// settings are the gateway's and the worker's environment as the cluster runs them, by kind.
	settings map[string][]string
}

// Up starts everything and returns once every gateway is ready. On error it stops what it started.
func Up(ctx context.Context, opts Options) (*Cluster, error) {
	c := &Cluster{Dir: opts.Dir, Ports: map[string]ServicePorts{}}
	// The product's settings first: a Compose file the cluster cannot follow fails before anything starts.
	var err error
	if c.env, err = readProductEnv(); err != nil {
		return nil, err
	}
	gw, wk := c.env.env(composeGateway), c.env.env(composeWorker)
	c.Namespace, c.TaskQueue = gw["TEMPORAL_NAMESPACE"], gw["TEMPORAL_TASK_QUEUE"]
	if c.Namespace == "" || c.TaskQueue == "" || wk["TEMPORAL_NAMESPACE"] != c.Namespace || wk["TEMPORAL_TASK_QUEUE"] != c.TaskQueue {
		return nil, fmt.Errorf("%s: the gateway and the worker must name one namespace and one task queue", composeFile)
	}
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
	var tools devserver.ServerTools
	if err := step(&c.Timings.ServerBuild, "find or build temporal-server and temporal-sql-tool", func() error {
		tools, err = devserver.EnsureServer(ctx, opts.Config.CLI, progress)
		return err
	}); err != nil {
		return nil, err
	}

	// Every port at once: a port found later could be one reserved here for a process that does
	// not listen on it (Temporal's worker service announces a gRPC port it never opens).
	ports, err := freePorts(12 + opts.Workers + opts.Gateways)
	if err != nil {
		return nil, err
	}
	take := func() int { p := ports[0]; ports = ports[1:]; return p }

	if err := step(&c.Timings.Postgres, "start PostgreSQL", func() error {
		if u := opts.Config.PostgresURL; u != nil {
			c.Postgres, err = existingPostgres(u)
			return err
		}
		c.Postgres, err = startPostgres(ctx, opts.Config.PostgresBin, take(), filepath.Join(opts.Dir, "postgres.log"))
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
		vars, err := c.env.temporalOn(temporalLoopback(opts.Dir, c.Postgres, c.Ports, c.FrontendHTTP))
		if err != nil {
			return err
		}
		if _, err := renderConfig(tools.ModuleDir, opts.Dir, vars); err != nil {
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
		return c.startProduct(ctx, opts, ports[len(ports)-opts.Workers-opts.Gateways:])
	}); err != nil {
		return nil, err
	}
	started = true
	return c, nil
}

// startProduct builds cmd/worker and cmd/server from this checkout and runs them on the cluster,
// with the environment docker-compose.yml gives them, each on one of ports and logging to
// DIR/<name>.log.
func (c *Cluster) startProduct(ctx context.Context, opts Options, ports []int) error {
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
	run := func(kind string, i int, listen string, extra []string) error {
		env, err := c.env.on(kind, map[string]string{frontendOnCompose: c.Frontend}, c.volume)
		if err != nil {
			return err
		}
		// The images listen on every address (Dockerfile ENV); here each on a loopback port of its own.
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		ports = ports[1:]
		vars := append(append(env, listen+"="+addr), extra...)
		if c.settings == nil {
			c.settings = map[string][]string{}
		}
		c.settings[kind] = vars
		name := fmt.Sprintf("%s-%d", kind, i+1)
		bin := map[string]string{"gateway": "server", "worker": "worker"}[kind]
		p, err := startLogged(name, filepath.Join(opts.Dir, name+".log"), nil, "", vars, filepath.Join(binDir, bin))
		if err != nil {
			return err
		}
		url := "http://" + addr
		p.ready = func(ctx context.Context, p *process) error { return waitReady(ctx, url, p) }
		c.product = append(c.product, p)
		if kind == "gateway" {
			c.GatewayURLs = append(c.GatewayURLs, url)
		} else {
			c.WorkerHealthURLs = append(c.WorkerHealthURLs, url)
		}
		return nil
	}
	for i := range opts.Workers {
		if err := run("worker", i, "WORKER_METRICS_ADDR", opts.WorkerEnv); err != nil {
			return err
		}
	}
	for i := range opts.Gateways {
		if err := run("gateway", i, "GATEWAY_HTTP_ADDR", opts.GatewayEnv); err != nil {
			return err
		}
	}
	for _, p := range c.product {
		if err := p.ready(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// volume is the directory that stands for the named volume of docker-compose.yml. A directory
// that cannot be made shows as the error of the process that uses it.
func (c *Cluster) volume(name string) string {
	dir := filepath.Join(c.Dir, "volumes", name)
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

// Setting is the value of key in the environment the cluster gives its gateways (kind "gateway")
// or its workers ("worker"), the last one set; "" when it gives none.
func (c *Cluster) Setting(kind, key string) string {
	var v string
	for _, kv := range c.settings[kind] {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
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
			return fmt.Errorf("%s exited (%v); see %s.log", p.name, perr, p.name)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return errors.Join(ctx.Err(), fmt.Errorf("%s at %s not ready within 60s: %w", p.name, base, err))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Exited reports the first child that has ended on its own, or nil.
func (c *Cluster) Exited() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.all() {
		if done, err := p.exited(); done {
			return fmt.Errorf("%s exited (%v)", p.name, err)
		}
	}
	return nil
}

// all is every running child, PostgreSQL first. Hold mu.
func (c *Cluster) all() []*process {
	var out []*process
	if c.Postgres != nil && c.Postgres.proc != nil {
		out = append(out, c.Postgres.proc)
	}
	return append(append(out, c.services...), c.product...)
}

// PIDs are the process ids of the cluster's children by name: postgres (when the cluster runs
// its own), history, matching, frontend, worker, worker-N and gateway-N.
func (c *Cluster) PIDs() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, p := range c.all() {
		out[p.name] = p.cmd.Process.Pid
	}
	return out
}

// slot finds the named child. Hold mu.
func (c *Cluster) slot(name string) (**process, error) {
	if name == "postgres" && c.Postgres != nil && c.Postgres.proc != nil {
		return &c.Postgres.proc, nil
	}
	for _, list := range [][]*process{c.services, c.product} {
		for i := range list {
			if list[i].name == name {
				return &list[i], nil
			}
		}
	}
	return nil, fmt.Errorf("the cluster runs no %q", name)
}

// child is the named child as it runs now. The caller waits on it without the lock.
func (c *Cluster) child(name string) (*process, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	slot, err := c.slot(name)
	if err != nil {
		return nil, err
	}
	return *slot, nil
}

// Kill ends the named child at once with SIGKILL, as a crash or the kernel's OOM killer would:
// "gateway-1", "worker-2", "history", "postgres" ... (see PIDs).
func (c *Cluster) Kill(name string) error {
	p, err := c.child(name)
	if err != nil {
		return err
	}
	p.kill()
	return nil
}

// StopProcess stops the named child as an operator would (SIGTERM, then SIGKILL after 20s), and
// leaves it stopped until Restart.
func (c *Cluster) StopProcess(name string) error {
	p, err := c.child(name)
	if err != nil {
		return err
	}
	p.stop(stopSignal(name), 20*time.Second)
	return nil
}

// stopSignal is what asks the child to stop: SIGTERM, and SIGINT, the fast shutdown, for PostgreSQL.
func stopSignal(name string) syscall.Signal {
	if name == "postgres" {
		return syscall.SIGINT
	}
	return syscall.SIGTERM
}

// Restart starts the named child again, as it was started and on the same ports, after Kill,
// and returns once it is ready. A child still running is stopped first, as StopProcess does. The
// waits hold no lock: Exited, PIDs and Kill answer meanwhile.
func (c *Cluster) Restart(ctx context.Context, name string) error {
	old, err := c.child(name)
	if err != nil {
		return err
	}
	if old.again == nil {
		return fmt.Errorf("%s cannot be started again", name)
	}
	old.stop(stopSignal(name), 20*time.Second)
	q, err := old.again()
	if err != nil {
		return err
	}
	q.ready = old.ready
	c.mu.Lock()
	if slot, err := c.slot(name); err == nil {
		*slot = q
	}
	c.mu.Unlock()
	if q.ready == nil {
		return nil
	}
	return q.ready(ctx, q)
}

// Running says whether the named child runs.
func (c *Cluster) Running(name string) bool {
	p, err := c.child(name)
	if err != nil {
		return false
	}
	done, _ := p.exited()
	return !done
}

// Stop stops everything in the reverse order of start: the product, the services, PostgreSQL.
// It leaves Dir to its owner.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/devserver"
)

const (
	namespace = "default"
	// idleQueue has no worker: executions started on it stay RUNNING and cost no worker CPU, so
	// the start scenario measures starting alone, and the readers have executions that never close
	// by themselves.
	idleQueue = "bench-idle"
	// workerQueue is the worker's: start-and-wait needs the workflow to run.
	workerQueue = "bench-worker"
)

// stack is what one run measures, all on loopback: the dev server, a worker and a gateway, or
// the local multi-service cluster with two gateways (-cluster).
type stack struct {
	dev        *testsuite.DevServer
	cli        string // the Temporal CLI of the dev server; empty on the cluster
	devPID     int
	temporal   string // gRPC host:port
	nativeHTTP string // base URL of Temporal's own HTTP API
	// gatewayURLs are the gateways' base URLs: one on the dev server, two on the cluster. The
	// single-gateway paths and the readers use the first.
	gatewayURLs []string
	pprofAddr   string // the profiled gateway's pprof listener; empty when not profiling
	binDir      string
	worker      *process
	gateway     *process // the dev server's gateway, which the readers restart; nil on the cluster
	gatewayEnv  []string
	client      client.Client // the bench process's own: setup and teardown, never measured
	logDir      string
	// removeLogs is set once the run has succeeded: the logs go with the stack.
	removeLogs bool
	// processes name the stack's processes whose CPU each measurement reads, in the table's
	// order; cpuOf reads them. temporalProcs are those of Temporal and its database, which settle
	// waits on.
	processes     []string
	cpuOf         func() (cpuSet, error)
	temporalProcs []string
	onCluster     bool
	// unsettled counts the measurements whose window opened or closed with Temporal still busy
	// after settle's 15s.
	unsettled   int
	stopActions []func()
}

func startStack(ctx context.Context, cli config.TemporalCLI, s settings, progress io.Writer) (st *stack, err error) {
	st = &stack{}
	defer func() {
		if err != nil {
			st.stop()
		}
	}()
	if st.cli, err = devserver.EnsureCLI(ctx, cli, progress); err != nil {
		return st, err
	}
	if st.cli == "" {
		return st, errors.New("no Temporal CLI: set TEMPORAL_CLI or run `go run ./cmd/dev cli`")
	}
	if err := st.makeDirs("dev server, worker and gateway", progress); err != nil {
		return st, err
	}
	fmt.Fprintln(progress, "bench: building the gateway, the worker and the SDK client ...")
	if s.cpuProfile != "" || s.memProfile != "" {
		pprofPort, err := freePort()
		if err != nil {
			return st, err
		}
		st.pprofAddr = fmt.Sprintf("127.0.0.1:%d", pprofPort)
	}
	overlay, err := buildOverlay(st.binDir, s.overlay, st.pprofAddr)
	if err != nil {
		return st, err
	}
	if err := st.build(ctx, overlay, "./cmd/server", "./cmd/worker", "./cmd/bench"); err != nil {
		return st, err
	}

	httpPort, err := freePort()
	if err != nil {
		return st, err
	}
	devLog, err := os.Create(filepath.Join(st.logDir, "temporal.log"))
	if err != nil {
		return st, err
	}
	fmt.Fprintf(progress, "bench: starting the Temporal dev server (%s) ...\n", st.cli)
	st.dev, err = testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  st.cli,
		LogLevel:      "error",
		ClientOptions: &client.Options{Namespace: namespace},
		// --http-port turns on Temporal's own HTTP API, the third path measured.
		ExtraArgs: []string{"--http-port", fmt.Sprint(httpPort)},
		Stdout:    devLog,
		Stderr:    devLog,
	})
	if err != nil {
		return st, fmt.Errorf("start Temporal dev server: %w", err)
	}
	st.stopActions = append(st.stopActions, func() { _ = st.dev.Stop() })
	if st.devPID, err = childByExe(st.cli); err != nil {
		return st, err
	}
	st.temporal = st.dev.FrontendHostPort()
	st.client = st.dev.Client()
	st.nativeHTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)

	env := []string{"TEMPORAL_ADDRESS=" + st.temporal, "TEMPORAL_NAMESPACE=" + namespace, "TEMPORAL_TASK_QUEUE=" + workerQueue}
	if st.worker, err = startProcess(filepath.Join(st.binDir, "worker"), append(env, "LOG_LEVEL=warn"), filepath.Join(st.logDir, "worker.log")); err != nil {
		return st, fmt.Errorf("start worker: %w", err)
	}
	st.stopActions = append(st.stopActions, st.worker.stop)
	gwPort, err := freePort()
	if err != nil {
		return st, err
	}
	// The gateway runs as deployed, with its defaults (info-level access log included) except the
	// bounds on waits.
	st.gatewayURLs = []string{fmt.Sprintf("http://127.0.0.1:%d", gwPort)}
	st.gatewayEnv = append(append(env, fmt.Sprintf("GATEWAY_HTTP_ADDR=127.0.0.1:%d", gwPort)), benchGatewayEnv(s)...)
	if err := st.startGateway(ctx); err != nil {
		return st, err
	}
	st.stopActions = append(st.stopActions, func() { st.gateway.stop() })
	st.processes = []string{"gateway", "Temporal"}
	st.temporalProcs = []string{"Temporal"}
	st.cpuOf = func() (cpuSet, error) {
		gw, err := cpuTime(st.gateway.pid())
		if err != nil {
			return nil, err
		}
		dev, err := cpuTime(st.devPID)
		return cpuSet{"gateway": gw, "Temporal": dev}, err
	}
	fmt.Fprintf(progress, "bench: dev server %s (HTTP API %s), worker pid %d, gateway pid %d at %s\n",
		st.temporal, st.nativeHTTP, st.worker.cmd.Process.Pid, st.gateway.cmd.Process.Pid, st.gatewayURLs[0])
	return st, nil
}

// benchGatewayEnv is what the bench adds to a gateway's environment: the bounds on waits, the
// idle queue, and -gateway-env.
func benchGatewayEnv(s settings) []string {
	// The readers stand for thousands of clients but all come from this one: the bound on the
	// waits one caller may hold is lifted to the number of readers, and so is the total.
	waits := max(s.readers, 10_000)
	// The start scenarios start on a queue no worker polls, so that they measure the start alone.
	return append([]string{fmt.Sprintf("GATEWAY_CONCURRENT_WAITS_PER_CALLER=%d", waits), fmt.Sprintf("GATEWAY_CONCURRENT_WAITS=%d", waits),
		"GATEWAY_TASK_QUEUES=" + idleQueue}, s.gatewayEnv...)
}

// makeDirs makes the directories of the binaries and of the logs, which go with the stack.
func (st *stack) makeDirs(what string, progress io.Writer) (err error) {
	if st.binDir, err = os.MkdirTemp("", "bench-bin"); err != nil {
		return err
	}
	st.stopActions = append(st.stopActions, func() { _ = os.RemoveAll(st.binDir) })
	// The logs of the processes outlive a failed run: they say why it failed. run sets removeLogs
	// after a run that succeeded.
	if st.logDir, err = os.MkdirTemp("", "bench-logs"); err != nil {
		return err
	}
	st.stopActions = append(st.stopActions, func() {
		if st.removeLogs {
			_ = os.RemoveAll(st.logDir)
		}
	})
	fmt.Fprintf(progress, "bench: logs of the %s in %s\n", what, st.logDir)
	return nil
}

// build builds the packages into binDir, with a `go build -overlay` file when overlay is set.
func (st *stack) build(ctx context.Context, overlay string, pkgs ...string) error {
	args := []string{"build", "-o", st.binDir + string(filepath.Separator)}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	root, err := devserver.RepoRoot()
	if err != nil {
		return err
	}
	build := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build binaries: %w\n%s", err, out)
	}
	return nil
}

// startGateway starts the gateway process and waits until it is ready.
func (st *stack) startGateway(ctx context.Context) (err error) {
	if st.gateway, err = startProcess(filepath.Join(st.binDir, "server"), st.gatewayEnv, filepath.Join(st.logDir, "gateway.log")); err != nil {
		return fmt.Errorf("start gateway: %w", err)
	}
	return waitReady(ctx, st.gatewayURLs[0]+"/readyz", st.gateway)
}

// restartGateway replaces the gateway with a new process: a scenario that measures its memory
// starts from a fresh one.
func (st *stack) restartGateway(ctx context.Context) error {
	st.gateway.stop()
	return st.startGateway(ctx)
}

// stop ends what startStack started, last first.
func (st *stack) stop() {
	for i := len(st.stopActions) - 1; i >= 0; i-- {
		st.stopActions[i]()
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProcess(path string, env []string, logFile string) (*process, error) {
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) // a restarted process adds to its log
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	// The kernel stops the child if the bench dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); log.Close(); close(p.done) }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func waitReady(ctx context.Context, url string, p *process) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready", p.cmd.Path)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within 30s", url)
}

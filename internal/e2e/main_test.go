// Package e2e drives the real stack over HTTP: a Temporal dev server run from the pinned CLI, the
// worker and gateway binaries built from this checkout, each in its own process.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/temporalhttp/gateway/internal/config"
	"github.com/temporalhttp/gateway/internal/devserver"
)

// The stack under test, set up once by TestMain.
var (
	gatewayURL   string
	temporalAddr string
	cliPath      string
	binDir       string
	// temporalMetrics is the dev server's Prometheus endpoint: it counts the calls Temporal served.
	temporalMetrics string
	temporalC       client.Client
)

const taskQueue = "e2e"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	cliCfg, err := config.LoadTemporalCLI(os.Getenv)
	if err == nil {
		cliPath, err = devserver.FindCLI(cliCfg)
	}
	if err != nil || cliPath == "" {
		msg := "no Temporal CLI: run `go run ./cmd/dev cli` (make test does) or set TEMPORAL_CLI"
		if err != nil {
			msg = err.Error()
		}
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "e2e: FAIL:", msg, "- CI never skips the end-to-end tests")
			return 1
		}
		fmt.Fprintln(os.Stderr, "e2e: SKIPPED, every end-to-end test:", msg)
		return 0
	}

	ctx := context.Background()
	metricsPort, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	temporalMetrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  cliPath,
		LogLevel:      "error",
		ClientOptions: &client.Options{Namespace: "default"},
		ExtraArgs:     []string{"--metrics-port", fmt.Sprint(metricsPort)},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start Temporal dev server:", err)
		return 1
	}
	defer func() { _ = dev.Stop() }()
	temporalAddr = dev.FrontendHostPort()
	temporalC = dev.Client()

	root, err := devserver.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binDir, err = os.MkdirTemp("", "e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(binDir)
	build := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), "./cmd/server", "./cmd/worker")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build binaries: %v\n%s", err, out)
		return 1
	}

	env := []string{"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue, "LOG_LEVEL=warn"}
	worker, err := startProcess(filepath.Join(binDir, "worker"), env, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start worker:", err)
		return 1
	}
	defer worker.stop()
	// The fault tests run workers of their own on task queues of their own, through this gateway.
	gateway, url, err := startGateway(append(env, "GATEWAY_HTTP_ADDR=127.0.0.1:0", "GATEWAY_TASK_QUEUES=*"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start gateway:", err)
		return 1
	}
	defer gateway.stop()
	gatewayURL = url
	if err := waitReady(gatewayURL); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	fmt.Printf("e2e: Temporal dev server %s at %s; worker pid %d on task queue %q; gateway pid %d at %s\n",
		cliPath, temporalAddr, worker.cmd.Process.Pid, taskQueue, gateway.cmd.Process.Pid, gatewayURL)
	return m.Run()
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

func startProcess(path string, env []string, stderr io.Writer) (*process, error) {
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startGateway runs the gateway binary and reads the address it listens on from its log.
func startGateway(env []string) (*process, string, error) {
	r, w := io.Pipe()
	// Info level: the gateway logs the address it listens on there.
	p, err := startProcess(filepath.Join(binDir, "server"), append(env, "LOG_LEVEL=info"), w)
	if err != nil {
		return nil, "", err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var line struct{ Level, Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) != nil || (line.Level != "INFO" && line.Level != "DEBUG") {
				fmt.Fprintln(os.Stderr, sc.Text()) // keep the gateway's warnings visible
			}
			if line.Msg == "gateway listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return p, "http://" + a, nil
	case <-p.done:
		return nil, "", errors.New("gateway exited at start")
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, "", errors.New("gateway did not report its address within 30s")
	}
}

func waitReady(base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("gateway at %s not ready within 30s", base)
}

// uniqueID makes workflow ids that no other test or earlier run uses.
func uniqueID(t *testing.T) string {
	return strings.ReplaceAll(t.Name(), "/", "-") + "-" + fmt.Sprint(time.Now().UnixNano())
}

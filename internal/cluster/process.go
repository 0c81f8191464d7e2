//go:build linux

package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one child of the cluster: in its own process group, so that stopping it reaches all
// of it, and stopped by the kernel if the launcher dies without cleaning up (Pdeathsig).
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	// again starts the process anew as it was started, logging where it logged (nil for a
	// one-shot such as initdb): the fault tests kill a part of the cluster and bring it back.
	again func() (*process, error)
	// ready returns once the process serves, or fails when it has exited (nil: at once).
	ready func(ctx context.Context, p *process) error
}

// startLogged is start with the output appended to the file logPath, so that a process started
// again adds to the log of the one before.
func startLogged(name, logPath string, cred *syscall.Credential, dir string, env []string, path string, args ...string) (*process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p, err := start(name, log, cred, dir, env, path, args...)
	log.Close() // the child holds its own descriptor
	if err != nil {
		return nil, err
	}
	p.again = func() (*process, error) { return startLogged(name, logPath, cred, dir, env, path, args...) }
	return p, nil
}

// start runs path with args in dir ("" for the launcher's own); env is added to the launcher's
// environment without the settings of Temporal, the gateway, the worker, the schema tool and
// the cluster (childEnv); cred (when not nil) is the user it runs as.
func start(name string, out io.Writer, cred *syscall.Credential, dir string, env []string, path string, args ...string) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = childEnv(env)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends sig to the process group and waits up to timeout before killing it.
func (p *process) stop(sig syscall.Signal, timeout time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// kill ends the process group at once (SIGKILL), as a crash or an OOM kill would, and waits for it.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// ownSettings begin the variables the cluster sets for its children itself. One the launcher's
// shell exports (TEMPORAL_TLS_CERT, WORKER_METRICS_ADDR, SQL_PASSWORD, CLUSTER_POSTGRES_URL ...)
// would reach every child and turn it against the cluster: a second worker on a taken metrics
// port, a gateway dialling TLS to a plaintext frontend, a password in every environment.
var ownSettings = []string{"TEMPORAL_", "GATEWAY_", "WORKER_", "SQL_", "CLUSTER_", "OTEL_", "LOG_"}

// childEnv is the launcher's environment without ownSettings, and env.
func childEnv(env []string) []string {
	var out []string
next:
	for _, kv := range os.Environ() {
		for _, prefix := range ownSettings {
			if strings.HasPrefix(kv, prefix) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return append(out, env...)
}

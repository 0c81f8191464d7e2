//go:build unix

package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
)

// Options say how to run the dev server.
type Options struct {
	CLI       string
	IP        string
	Port      int
	UIPort    int
	Namespace string
	// DBFile is the SQLite file that keeps executions across restarts.
	DBFile string
	// Output receives the dev server's own log.
	Output io.Writer
}

// Server is a running dev server.
type Server struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs the dev server and returns once it answers on its gRPC port.
func Start(ctx context.Context, opts Options) (*Server, error) {
	args := []string{"server", "start-dev",
		"--ip", opts.IP,
		"--port", strconv.Itoa(opts.Port),
		"--ui-port", strconv.Itoa(opts.UIPort),
		"--namespace", opts.Namespace,
		"--db-filename", opts.DBFile,
		"--log-level", "warn",
	}
	cmd := exec.Command(opts.CLI, args...)
	cmd.Stdout, cmd.Stderr = opts.Output, opts.Output
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.CLI, err)
	}
	s := &Server{cmd: cmd, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()

	address := fmt.Sprintf("%s:%d", opts.IP, opts.Port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		if err := ping(ctx, address, opts.Namespace); err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("temporal dev server exited before it was ready (%v); its log says why", s.err)
		case <-ctx.Done():
			s.Stop(5 * time.Second)
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop(5 * time.Second)
			return nil, errors.New("temporal dev server did not answer within 90s")
		}
	}
}

func ping(ctx context.Context, address, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: address, Namespace: namespace, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// Done is closed when the dev server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop asks the dev server and anything it started to stop, and kills them after timeout.
func (s *Server) Stop(timeout time.Duration) {
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM) // the whole process group
	select {
	case <-s.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-s.done
	}
}

// quietLogger drops the SDK's log lines while the dev server is still starting.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

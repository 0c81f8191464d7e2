//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Services are the four Temporal services, each run as its own process.
var Services = []string{"history", "matching", "frontend", "worker"}

// ServicePorts are one service's gRPC and membership (ringpop) ports.
type ServicePorts struct{ GRPC, Membership int }

// configTemplate is the server module's own PostgreSQL development config: the cluster changes
// only its addresses, ports, credentials and dynamic config path.
const configTemplate = "config/development-postgres12.yaml"

// dynamicConfigTemplate is the module's development dynamic config for SQL stores.
const dynamicConfigTemplate = "config/dynamicconfig/development-sql.yaml"

// renderConfig writes dir/config/cluster.yaml (temporal-server --root dir --env cluster reads it)
// and the dynamic config beside it.
func renderConfig(moduleDir, dir string, pg *Postgres, ports map[string]ServicePorts, frontendHTTP int) (string, error) {
	tmpl, err := os.ReadFile(filepath.Join(moduleDir, configTemplate))
	if err != nil {
		return "", err
	}
	dyn, err := os.ReadFile(filepath.Join(moduleDir, dynamicConfigTemplate))
	if err != nil {
		return "", err
	}
	confDir := filepath.Join(dir, "config")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return "", err
	}
	dynPath := filepath.Join(confDir, "dynamicconfig.yaml")
	if err := os.WriteFile(dynPath, dyn, 0o644); err != nil {
		return "", err
	}
	text := string(tmpl)
	// The four processes share this file, so a fixed metrics or pprof port would be taken by the
	// first and fail the others: the cluster runs without both for now.
	if i, j := strings.Index(text, "  pprof:\n"), strings.Index(text, "\nservices:"); i >= 0 && j > i {
		text = text[:i] + text[j:]
	} else {
		return "", fmt.Errorf("%s: no pprof/metrics section where expected", configTemplate)
	}
	q := strconv.Quote
	pgAddr := q(net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)))
	frontend := ports["frontend"]
	pairs := []string{
		`connectAddr: "127.0.0.1:5432"`, "connectAddr: " + pgAddr,
		`user: "temporal"`, "user: " + q(pg.User),
		`password: "temporal"`, "password: " + q(pg.Password),
		"level: info", "level: warn",
		`rpcAddress: "localhost:7233"`, "rpcAddress: " + q(fmt.Sprintf("127.0.0.1:%d", frontend.GRPC)),
		"httpPort: 7243", "httpPort: " + strconv.Itoa(frontendHTTP),
		`filepath: "config/dynamicconfig/development-sql.yaml"`, "filepath: " + q(dynPath),
	}
	for svc, def := range map[string]ServicePorts{
		"frontend": {7233, 6933}, "history": {7234, 6934}, "matching": {7235, 6935}, "worker": {7239, 6939},
	} {
		p := ports[svc]
		pairs = append(pairs,
			fmt.Sprintf("grpcPort: %d", def.GRPC), fmt.Sprintf("grpcPort: %d", p.GRPC),
			fmt.Sprintf("membershipPort: %d", def.Membership), fmt.Sprintf("membershipPort: %d", p.Membership))
	}
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(text, pairs[i]) {
			return "", fmt.Errorf("%s: no %q to replace; the template changed", configTemplate, pairs[i])
		}
	}
	text = strings.NewReplacer(pairs...).Replace(text)
	return text, os.WriteFile(filepath.Join(confDir, "cluster.yaml"), []byte(text), 0o644)
}

// startServices runs each service as its own temporal-server process, logging to dir/<service>.log.
// The first starts alone: on a fresh database each process writes the cluster's metadata at
// start, and two doing it at once fail one of them on the primary key. Once the first listens,
// the metadata is there and the others only read it.
func startServices(ctx context.Context, server, dir string, ports map[string]ServicePorts) ([]*process, error) {
	var procs []*process
	for i, svc := range Services {
		p, err := startLogged(svc, filepath.Join(dir, svc+".log"), nil, dir, nil, server,
			"--root", dir, "--config", "config", "--env", "cluster", "--allow-no-auth", "start", "--service", svc)
		if err != nil {
			return procs, err
		}
		address := fmt.Sprintf("127.0.0.1:%d", ports[svc].GRPC)
		p.ready = func(ctx context.Context, p *process) error { return waitListening(ctx, address, p, dir) }
		procs = append(procs, p)
		if i == 0 {
			if err := p.ready(ctx, p); err != nil {
				return procs, err
			}
		}
	}
	return procs, nil
}

// waitListening returns once address accepts connections, or p has exited.
func waitListening(ctx context.Context, address string, p *process, dir string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		conn, err := net.DialTimeout("tcp", address, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if done, perr := p.exited(); done {
			return fmt.Errorf("temporal %s exited (%v); the end of its log:\n%s", p.name, perr, logTail(filepath.Join(dir, p.name+".log")))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal %s: %s not listening within 2 minutes", p.name, address)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// registerNamespace waits for the frontend, registers namespace, and returns once a workflow can
// be started in it: history and matching learn of a new namespace only when their namespace cache
// refreshes, and the frontend answers before they are in the ring.
func registerNamespace(ctx context.Context, address, namespace, dir string, procs []*process) error {
	deadline := time.Now().Add(3 * time.Minute)
	wait := func(what string, try func(ctx context.Context) error) error {
		for {
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := try(tctx)
			cancel()
			if err == nil {
				return nil
			}
			for _, p := range procs {
				if done, perr := p.exited(); done {
					return fmt.Errorf("temporal %s exited (%v); the end of its log:\n%s", p.name, perr, logTail(filepath.Join(dir, p.name+".log")))
				}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: not within 3 minutes: %w", what, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	var c client.Client
	if err := wait("frontend answers", func(ctx context.Context) error {
		var err error
		c, err = client.DialContext(ctx, client.Options{HostPort: address, Namespace: namespace, Logger: quietLogger{}})
		return err
	}); err != nil {
		return err
	}
	defer c.Close()
	if err := wait("register namespace "+namespace, func(ctx context.Context) error {
		_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	}); err != nil {
		return err
	}
	// A probe on a task queue no worker polls: started means history accepted it; then it goes.
	return wait("a workflow can start in "+namespace, func(ctx context.Context) error {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			TaskQueue: "cluster-probe", WorkflowExecutionTimeout: time.Minute,
		}, "ClusterProbe")
		if err != nil {
			return err
		}
		return c.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), "cluster readiness probe")
	})
}

// quietLogger drops the SDK's own log lines while the cluster is coming up.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// logTail is the end of a service's log, for an error that says why it stopped.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

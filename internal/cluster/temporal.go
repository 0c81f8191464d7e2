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
	"text/template"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Services are the four Temporal services, each run as its own process.
var Services = []string{"history", "matching", "frontend", "worker"}

// ServicePorts are one service's gRPC and membership (ringpop) ports.
type ServicePorts struct{ GRPC, Membership int }

// configTemplate is the config the temporalio/server image renders from its environment when it
// starts (in dockerize's dialect: {{ default .Env.DB "cassandra" }}). The cluster renders the same
// file of the same server version with the environment docker-compose.yml gives its temporal
// service, so the Temporal that the cluster runs and tests is configured as the Compose stack's.
const configTemplate = "docker/config_template.yaml"

// dynamicConfigTemplate is the image's dynamic config, the default of its DYNAMIC_CONFIG_FILE_PATH.
const dynamicConfigTemplate = "config/dynamicconfig/docker.yaml"

// dynamicConfigPath is where renderConfig writes the dynamic config.
func dynamicConfigPath(dir string) string { return filepath.Join(dir, "config", "dynamicconfig.yaml") }

// temporalLoopback are the settings of configTemplate that stand for the Compose network on
// loopback: the database's address and credentials, each service's address and ports, and the
// dynamic config's path. They replace what docker-compose.yml gives the temporal service; every
// other setting is the file's.
func temporalLoopback(dir string, pg *Postgres, ports map[string]ServicePorts, frontendHTTP int) map[string]string {
	vars := map[string]string{
		"POSTGRES_SEEDS": pg.Host, "DB_PORT": strconv.Itoa(pg.Port), "POSTGRES_USER": pg.User, "POSTGRES_PWD": pg.Password,
		"BIND_ON_IP": "127.0.0.1", "FRONTEND_HTTP_PORT": strconv.Itoa(frontendHTTP), "DYNAMIC_CONFIG_FILE_PATH": dynamicConfigPath(dir),
	}
	for _, svc := range Services {
		prefix := strings.ToUpper(svc)
		vars[prefix+"_GRPC_PORT"] = strconv.Itoa(ports[svc].GRPC)
		vars[prefix+"_MEMBERSHIP_PORT"] = strconv.Itoa(ports[svc].Membership)
	}
	return vars
}

// templateFuncs are the functions configTemplate calls beyond text/template's own, as dockerize
// defines them.
var templateFuncs = template.FuncMap{
	// default VALUE DEFAULT: the value, or the default when the variable is unset, as dockerize
	// has it (the order is the reverse of sprig's). A variable set to "" stays "": a missing key
	// of .Env reaches the function as nil, a set one as its string.
	"default": func(value any, def ...any) any {
		if value == nil && len(def) > 0 {
			return def[0]
		}
		return value
	},
	"lower": strings.ToLower,
	"split": strings.Split,
	"trim":  strings.TrimSpace,
}

// renderConfig writes dir/config/cluster.yaml (temporal-server --root dir --env cluster reads it)
// from configTemplate with vars, and the image's dynamic config beside it (dynamicConfigPath). It
// returns what it wrote.
func renderConfig(moduleDir, dir string, vars map[string]string) (string, error) {
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
	if err := os.WriteFile(dynamicConfigPath(dir), dyn, 0o644); err != nil {
		return "", err
	}
	t, err := template.New(configTemplate).Funcs(templateFuncs).Parse(string(tmpl))
	if err != nil {
		return "", fmt.Errorf("%s: %w", configTemplate, err)
	}
	var out strings.Builder
	if err := t.Execute(&out, map[string]any{"Env": vars}); err != nil {
		return "", fmt.Errorf("%s: %w", configTemplate, err)
	}
	var parsed map[string]any
	if err := yaml.Unmarshal([]byte(out.String()), &parsed); err != nil {
		return "", fmt.Errorf("%s rendered is not YAML: %w", configTemplate, err)
	}
	return out.String(), os.WriteFile(filepath.Join(confDir, "cluster.yaml"), []byte(out.String()), 0o600)
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
			Namespace: namespace,
			// As docker-compose.yml's temporal-namespace job registers it.
			WorkflowExecutionRetentionPeriod: durationpb.New(72 * time.Hour),
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

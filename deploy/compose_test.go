package deploy_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/compose"
	"github.com/temporalhttp/gateway/internal/config"
)

// The values docker-compose.yml requires, dummies for the checks only.
var composeEnv = map[string]string{"POSTGRES_PASSWORD": "not-a-real-password"}

type service = compose.Service

// readCompose reads ../docker-compose.yml interpolated with env.
func readCompose(t *testing.T, env map[string]string) map[string]service {
	t.Helper()
	services, err := compose.Load(repoFile(t, "docker-compose.yml"), env)
	require.NoError(t, err)
	return services
}

// hostOf is the host of a host:port setting.
func hostOf(t *testing.T, hostport string) string {
	t.Helper()
	host, _, err := net.SplitHostPort(hostport)
	require.NoError(t, err, hostport)
	return host
}

func TestComposeImagesArePinned(t *testing.T) {
	for name, s := range readCompose(t, composeEnv) {
		assert.Regexp(t, pinned, s.Image, "service %s: an exact version tag, never latest, no registry host", name)
	}
}

func TestComposeBuildsTheDockerfileTargets(t *testing.T) {
	services, stages := readCompose(t, composeEnv), readDockerfile(t)
	for _, target := range []string{"gateway", "worker"} {
		s, ok := services[target]
		require.True(t, ok, "service %s is declared", target)
		require.NotNil(t, s.Build, "service %s is built from this checkout", target)
		assert.Equal(t, ".", s.Build.Context)
		assert.Equal(t, target, s.Build.Target)
		stageNamed(t, stages, s.Build.Target)
		assert.Regexp(t, `^temporalhttp/`+target+`:`, s.Image, "the built image is tagged")
	}
}

// TestComposeDeclaresWhatTheGatewayAndWorkerNeed follows the settings: the Temporal the gateway and
// the worker dial, the database that Temporal uses, and the jobs that prepare both, are all
// services of the file, and each starts only once what it needs is healthy or done.
func TestComposeDeclaresWhatTheGatewayAndWorkerNeed(t *testing.T) {
	services := readCompose(t, composeEnv)
	for _, name := range []string{"gateway", "worker"} {
		s := services[name]
		temporalHost := hostOf(t, s.Environment["TEMPORAL_ADDRESS"])
		temporal, ok := services[temporalHost]
		require.True(t, ok, "%s dials TEMPORAL_ADDRESS %s, which is no service of the file", name, s.Environment["TEMPORAL_ADDRESS"])
		_, ok = services[temporal.Environment["POSTGRES_SEEDS"]]
		require.True(t, ok, "Temporal's database POSTGRES_SEEDS=%q is a service of the file", temporal.Environment["POSTGRES_SEEDS"])
		assert.Equal(t, "postgres12", temporal.Environment["DB"])

		needs := map[string]bool{}
		var walk func(string)
		walk = func(n string) {
			for dep := range services[n].DependsOn {
				if !needs[dep] {
					needs[dep] = true
					walk(dep)
				}
			}
		}
		walk(name)
		for _, dep := range []string{temporalHost, temporal.Environment["POSTGRES_SEEDS"], "temporal-schema", "temporal-namespace"} {
			assert.True(t, needs[dep], "%s starts after %s", name, dep)
		}
		assert.Equal(t, s.Environment["TEMPORAL_NAMESPACE"], services["temporal-namespace"].Environment["TEMPORAL_NAMESPACE"],
			"%s uses the namespace the job registers", name)
	}

	adopted := map[string]bool{}
	for name, s := range services {
		for dep, d := range s.DependsOn {
			_, ok := services[dep]
			require.True(t, ok, "%s depends on %s, which is no service of the file", name, dep)
			switch d.Condition {
			case "service_healthy":
				assert.NotNil(t, services[dep].Healthcheck, "%s waits for %s to be healthy, which needs a health check", name, dep)
			case "service_completed_successfully":
				assert.True(t, services[dep].OneShot(), "%s waits for the job %s to finish", name, dep)
				if !s.OneShot() {
					adopted[dep] = true
				}
			case "service_started":
				// Only the job that waits for the server's health itself may start this early.
				assert.True(t, name == "temporal-namespace" && dep == temporalServer,
					"%s starts with %s merely started: it would run before %s is ready", name, dep, dep)
			default:
				t.Errorf("%s depends on %s without a condition: it would start before %s is ready", name, dep, dep)
			}
		}
	}
	for name, s := range services {
		if s.OneShot() {
			assert.True(t, adopted[name], "job %s is awaited by a server, so `up --wait` accepts its exit", name)
		}
	}
}

// temporalServer is the Temporal server's service, the one that the gateway and worker dial.
const temporalServer = "temporal"

func TestComposeHealthChecksAndPorts(t *testing.T) {
	services, stages := readCompose(t, composeEnv), readDockerfile(t)
	for name, s := range services {
		assert.Empty(t, s.ContainerName, "%s: no fixed container name, so projects and --scale do not collide", name)
		for _, p := range s.Ports {
			assert.True(t, strings.HasPrefix(p, "127.0.0.1:"), "%s publishes %s on loopback only", name, p)
		}
		if s.OneShot() {
			continue
		}
		assert.Equal(t, "unless-stopped", s.Restart, name)
		switch {
		case s.Build != nil:
			assert.NotEmpty(t, last(chain(t, stages, s.Build.Target), "HEALTHCHECK"), "%s has the image's health check", name)
		case name == temporalServer:
			// Its image has no client to probe itself with; the namespace job waits for it
			// instead, and everything else waits for that job.
			assert.Nil(t, s.Healthcheck, "a health check of %s would need a client its image lacks", name)
			assert.Contains(t, strings.Join(services["temporal-namespace"].Command, "\n"), "cluster health",
				"temporal-namespace waits for the server's health")
			for other, o := range services {
				if d, ok := o.DependsOn[name]; ok && other != "temporal-namespace" {
					t.Errorf("%s depends on %s (%s); wait for temporal-namespace instead", other, name, d.Condition)
				}
			}
		default:
			require.NotNil(t, s.Healthcheck, "%s has a health check", name)
			assert.Equal(t, "CMD", s.Healthcheck.Test[0], "%s: exec form", name)
		}
	}
	assert.Empty(t, services["worker"].Ports, "the worker publishes no port, so that --scale worker=3 works")
}

// TestComposeSecretsComeFromTheEnvironment: no password or key is written in the file.
func TestComposeSecretsComeFromTheEnvironment(t *testing.T) {
	data, err := os.ReadFile(repoFile(t, "docker-compose.yml"))
	require.NoError(t, err)
	var raw struct{ Services map[string]service }
	require.NoError(t, yaml.Unmarshal(data, &raw))
	for name, s := range raw.Services {
		for k, v := range s.Environment {
			if secretName.MatchString(k) {
				assert.Regexp(t, `^\$\{[A-Z_]+:[-?][^}]*\}$`, v, "%s: %s is read from the environment (.env)", name, k)
			}
		}
	}
	_, err = compose.Interpolate(string(data), nil)
	assert.ErrorContains(t, err, "POSTGRES_PASSWORD", "there is no default database password")
}

// TestComposeConfiguresTheDeployablesAsDocumented loads the gateway's and the worker's
// configuration from the environment their containers get (the image's ENV, then the service's):
// only documented variables, and a gateway that refuses to run open.
func TestComposeConfiguresTheDeployablesAsDocumented(t *testing.T) {
	reference, err := os.ReadFile(repoFile(t, "docs/configuration.md"))
	require.NoError(t, err)
	stages := readDockerfile(t)
	containerEnv := func(t *testing.T, services map[string]service, name string) func(string) string {
		vars := env(chain(t, stages, services[name].Build.Target))
		for k, v := range services[name].Environment {
			assert.True(t, strings.Contains(string(reference), "| `"+k+"`"), "%s: %s is not in docs/configuration.md's table", name, k)
			vars[k] = v
		}
		return func(k string) string { return vars[k] }
	}

	t.Run("the gateway refuses to run without credentials", func(t *testing.T) {
		_, err := config.LoadGateway(containerEnv(t, readCompose(t, composeEnv), "gateway"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `GATEWAY_HTTP_ADDR ":8080" is reachable from other machines, but no credentials are configured`)
	})
	t.Run("the gateway runs with a minted key", func(t *testing.T) {
		_, entry, err := auth.NewAPIKey("ci", []auth.Scope{auth.ScopeRead, auth.ScopeStart})
		require.NoError(t, err)
		withKey := map[string]string{"GATEWAY_API_KEYS": entry.Entry()}
		for k, v := range composeEnv {
			withKey[k] = v
		}
		cfg, err := config.LoadGateway(containerEnv(t, readCompose(t, withKey), "gateway"))
		require.NoError(t, err)
		assert.Len(t, cfg.Auth.APIKeys, 1)
		assert.Equal(t, ":8080", cfg.HTTPAddr)
		assert.Equal(t, "temporal:7233", cfg.Temporal.Address)
	})
	t.Run("the worker serves its health beside its metrics", func(t *testing.T) {
		cfg, err := config.LoadWorker(containerEnv(t, readCompose(t, composeEnv), "worker"))
		require.NoError(t, err)
		assert.Equal(t, ":9090", cfg.Telemetry.MetricsAddr)
		assert.Equal(t, "temporal:7233", cfg.Temporal.Address)
	})
}

// TestComposeScripts runs shellcheck over the scripts the one-shot jobs run with `sh -c`.
func TestComposeScripts(t *testing.T) {
	shellcheck := tool(t, "shellcheck", "shellcheck")
	scripts := 0
	for name, s := range readCompose(t, composeEnv) {
		if len(s.Entrypoint) < 2 || s.Entrypoint[len(s.Entrypoint)-1] != "-c" {
			continue
		}
		require.Len(t, s.Command, 1, "%s: one script", name)
		scripts++
		cmd := exec.Command(shellcheck, "--shell=sh", "-")
		cmd.Stdin = strings.NewReader(s.Command[0])
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "shellcheck, service %s:\n%s", name, out)
	}
	assert.Equal(t, 2, scripts, "the schema and namespace jobs")
}

// TestComposeConfigIsValid asks docker-compose itself (the Debian package, v1) to validate the file.
func TestComposeConfigIsValid(t *testing.T) {
	compose := tool(t, "docker-compose", "docker-compose")
	run := func(env ...string) (string, error) {
		// Only what the test sets: a developer's .env or shell must not decide the outcome.
		noEnvFile := filepath.Join(t.TempDir(), "empty.env")
		require.NoError(t, os.WriteFile(noEnvFile, nil, 0o600))
		cmd := exec.Command(compose, "--env-file", noEnvFile, "-f", repoFile(t, "docker-compose.yml"), "config", "-q")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("POSTGRES_PASSWORD=" + composeEnv["POSTGRES_PASSWORD"])
	assert.NoError(t, err, "docker-compose config:\n%s", out)
	out, err = run()
	assert.Error(t, err, "POSTGRES_PASSWORD is required")
	assert.Regexp(t, regexp.MustCompile(`set POSTGRES_PASSWORD in \.env`), out)
}

//go:build linux

package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/compose"
)

// imageTemplate has the shapes of the image's docker/config_template.yaml that renderConfig must
// render: defaults, conditionals, the functions of dockerize, and print.
const imageTemplate = `log:
    level: {{ default .Env.LOG_LEVEL "info" }}
persistence:
    numHistoryShards: {{ default .Env.NUM_HISTORY_SHARDS "4" }}
    datastores:
        default:
            sql:
                {{- $db := default .Env.DB "cassandra" | lower }}
                pluginName: "{{ $db }}"
                connectAddr: "{{ default .Env.POSTGRES_SEEDS "" }}:{{ default .Env.DB_PORT "5432" }}"
                user: "{{ .Env.POSTGRES_USER }}"
                password: "{{ .Env.POSTGRES_PWD }}"
                {{- if .Env.CASSANDRA_ALLOWED_AUTHENTICATORS }}
                allowed: {{ range split .Env.CASSANDRA_ALLOWED_AUTHENTICATORS "," }}
                    - {{trim .}}
                {{- end }}
                {{- end }}
{{- $temporalGrpcPort := default .Env.FRONTEND_GRPC_PORT "7233" }}
services:
    frontend:
        rpc:
            grpcPort: {{ $temporalGrpcPort }}
            membershipPort: {{ default .Env.FRONTEND_MEMBERSHIP_PORT "6933" }}
            bindOnIP: "{{ default .Env.BIND_ON_IP "127.0.0.1" }}"
            httpPort: {{ default .Env.FRONTEND_HTTP_PORT "7243" }}
    history:
        rpc:
            grpcPort: {{ default .Env.HISTORY_GRPC_PORT "7234" }}
            membershipPort: {{ default .Env.HISTORY_MEMBERSHIP_PORT "6934" }}
clusterMetadata:
    rpcAddress: {{ (print "127.0.0.1:" $temporalGrpcPort) }}
dynamicConfigClient:
    filepath: "{{ default .Env.DYNAMIC_CONFIG_FILE_PATH "/etc/temporal/config/dynamicconfig/docker.yaml" }}"
`

func moduleWith(t *testing.T, tmpl string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "docker"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "config", "dynamicconfig"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, configTemplate), []byte(tmpl), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, dynamicConfigTemplate), []byte("# empty\n"), 0o644))
	return dir
}

// composed is a Compose file's services as productEnv reads them.
func composed(services map[string]compose.Service) productEnv {
	return productEnv{services: services}
}

func TestRenderConfig(t *testing.T) {
	ports := map[string]ServicePorts{
		"frontend": {21001, 21002}, "history": {21003, 21004}, "matching": {21005, 21006}, "worker": {21007, 21008},
	}
	pg := &Postgres{Host: "127.0.0.1", Port: 21000, User: "tu", Password: "tp"}
	e := composed(map[string]compose.Service{
		"postgresql": {},
		"temporal": {Environment: map[string]string{"DB": "postgres12", "NUM_HISTORY_SHARDS": "8", "DB_PORT": "5432",
			"POSTGRES_SEEDS": "postgresql", "POSTGRES_USER": "temporal", "POSTGRES_PWD": "from-compose"}},
	})

	t.Run("the file's settings, with loopback for the Compose network's", func(t *testing.T) {
		dir := t.TempDir()
		vars, err := e.temporalOn(temporalLoopback(dir, pg, ports, 21009))
		require.NoError(t, err)
		text, err := renderConfig(moduleWith(t, imageTemplate), dir, vars)
		require.NoError(t, err)
		out, err := os.ReadFile(filepath.Join(dir, "config", "cluster.yaml"))
		require.NoError(t, err)
		assert.Equal(t, text, string(out))
		for _, want := range []string{"level: info", "numHistoryShards: 8", `pluginName: "postgres12"`,
			`connectAddr: "127.0.0.1:21000"`, `user: "tu"`, `password: "tp"`,
			"grpcPort: 21001", "membershipPort: 21002", "httpPort: 21009", "grpcPort: 21003", "membershipPort: 21004",
			`bindOnIP: "127.0.0.1"`, "rpcAddress: 127.0.0.1:21001",
			`filepath: "` + filepath.Join(dir, "config", "dynamicconfig.yaml") + `"`} {
			assert.Contains(t, text, want)
		}
		for _, gone := range []string{"from-compose", "postgresql:", "7233", "6933", "allowed"} {
			assert.NotContains(t, text, gone)
		}
		assert.FileExists(t, filepath.Join(dir, "config", "dynamicconfig.yaml"))
	})
	t.Run("an address on the Compose network that the cluster does not stand in for", func(t *testing.T) {
		e := composed(map[string]compose.Service{"postgresql": {}, "collector": {},
			"temporal": {Environment: map[string]string{"VISIBILITY_POSTGRES_SEEDS": "postgresql", "POSTGRES_USER": "collector"}}})
		_, err := e.temporalOn(temporalLoopback(t.TempDir(), pg, ports, 21009))
		require.ErrorContains(t, err, "VISIBILITY_POSTGRES_SEEDS=postgresql")
	})
	t.Run("a variable set to nothing is not unset, as in dockerize", func(t *testing.T) {
		out, err := renderConfig(moduleWith(t, "a: \"{{ default .Env.SET_EMPTY \"d\" }}\"\nb: \"{{ default .Env.UNSET \"d\" }}\"\n"),
			t.TempDir(), map[string]string{"SET_EMPTY": ""})
		require.NoError(t, err)
		assert.Equal(t, "a: \"\"\nb: \"d\"\n", out)
	})
	t.Run("a template that is not YAML once rendered is refused", func(t *testing.T) {
		_, err := renderConfig(moduleWith(t, "a: [\n"), t.TempDir(), nil)
		require.ErrorContains(t, err, "not YAML")
	})
}

func TestProductEnvOnLoopback(t *testing.T) {
	e := composed(map[string]compose.Service{
		"temporal": {}, "collector": {},
		"worker": {Volumes: []string{"ledger:/var/lib/w:rw"}, Environment: map[string]string{
			"TEMPORAL_ADDRESS": "temporal:7233", "WORKER_BANK_FILE": "/var/lib/w/bank.json", "LOG_LEVEL": "info"}},
		"gateway": {Environment: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}},
		"bound":   {Volumes: []string{"./data:/data"}},
	})
	env, err := e.on("worker", map[string]string{"temporal:7233": "127.0.0.1:21001"}, func(v string) string { return "/tmp/c/volumes/" + v })
	require.NoError(t, err)
	assert.Equal(t, []string{"LOG_LEVEL=info", "TEMPORAL_ADDRESS=127.0.0.1:21001", "WORKER_BANK_FILE=/tmp/c/volumes/ledger/bank.json"}, env)

	_, err = e.on("gateway", map[string]string{"temporal:7233": "x"}, func(string) string { return "" })
	require.ErrorContains(t, err, "names collector on the Compose network", "a URL's host is an address too")
	_, err = e.on("bound", nil, func(string) string { return "" })
	require.ErrorContains(t, err, "not a named volume")
}

func TestFreePortsFitASmallint(t *testing.T) {
	ports, err := freePorts(12)
	require.NoError(t, err)
	seen := map[int]bool{}
	for _, p := range ports {
		assert.Less(t, p, 32768, "cluster_membership.rpc_port is a smallint")
		assert.False(t, seen[p], "port %d twice", p)
		seen[p] = true
	}
}

// TestTheRepositoryComposeFileIsOneTheClusterCanRun reads this checkout's docker-compose.yml as
// the cluster does.
func TestTheRepositoryComposeFileIsOneTheClusterCanRun(t *testing.T) {
	e, err := readProductEnv()
	require.NoError(t, err)
	_, err = e.temporalOn(temporalLoopback(t.TempDir(), &Postgres{Host: "127.0.0.1", Port: 1, User: "temporal"}, map[string]ServicePorts{}, 2))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(e.env(composeWorker)["TEMPORAL_ADDRESS"], "temporal:"))
}

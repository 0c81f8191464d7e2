//go:build linux

package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// template is the part of the module's development-postgres12.yaml that renderConfig rewrites.
const template = `log:
  stdout: true
  level: info
persistence:
  datastores:
    postgres-default:
      sql:
        connectAddr: "127.0.0.1:5432"
        user: "temporal"
        password: "temporal"
global:
  membership:
    broadcastAddress: "127.0.0.1"
  pprof:
    port: 7936
  metrics:
    prometheus:
      listenAddress: "127.0.0.1:8000"

services:
  frontend:
    rpc:
      grpcPort: 7233
      membershipPort: 6933
      httpPort: 7243
  matching:
    rpc:
      grpcPort: 7235
      membershipPort: 6935
  history:
    rpc:
      grpcPort: 7234
      membershipPort: 6934
  worker:
    rpc:
      grpcPort: 7239
      membershipPort: 6939
clusterMetadata:
  clusterInformation:
    active:
      rpcAddress: "localhost:7233"
dynamicConfigClient:
  filepath: "config/dynamicconfig/development-sql.yaml"
`

func moduleWith(t *testing.T, tmpl string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "config", "dynamicconfig"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, configTemplate), []byte(tmpl), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, dynamicConfigTemplate), []byte("{}\n"), 0o644))
	return dir
}

func TestRenderConfig(t *testing.T) {
	ports := map[string]ServicePorts{
		"frontend": {21001, 21002}, "history": {21003, 21004}, "matching": {21005, 21006}, "worker": {21007, 21008},
	}
	pg := &Postgres{Host: "127.0.0.1", Port: 21000, User: "tu", Password: "tp"}

	t.Run("every address and port is the cluster's", func(t *testing.T) {
		dir := t.TempDir()
		_, err := renderConfig(moduleWith(t, template), dir, pg, ports, 21009)
		require.NoError(t, err)
		out, err := os.ReadFile(filepath.Join(dir, "config", "cluster.yaml"))
		require.NoError(t, err)
		text := string(out)
		for _, want := range []string{`connectAddr: "127.0.0.1:21000"`, `user: "tu"`, `password: "tp"`,
			"grpcPort: 21001", "membershipPort: 21002", "httpPort: 21009", "grpcPort: 21003", "membershipPort: 21004",
			"grpcPort: 21005", "membershipPort: 21006", "grpcPort: 21007", "membershipPort: 21008",
			`rpcAddress: "127.0.0.1:21001"`, "level: warn",
			`filepath: "` + filepath.Join(dir, "config", "dynamicconfig.yaml") + `"`} {
			assert.Contains(t, text, want)
		}
		for _, gone := range []string{"7233", "6933", "7243", "5432", "pprof", "8000"} {
			assert.NotContains(t, text, gone, "four processes share the file: no fixed port may remain")
		}
		assert.FileExists(t, filepath.Join(dir, "config", "dynamicconfig.yaml"))
	})
	t.Run("a changed template is refused, not half rendered", func(t *testing.T) {
		_, err := renderConfig(moduleWith(t, strings.Replace(template, "grpcPort: 7234", "grpcPort: 9999", 1)), t.TempDir(), pg, ports, 21009)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "grpcPort: 7234")
	})
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

//go:build linux

package cluster

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/temporalhttp/gateway/internal/compose"
	"github.com/temporalhttp/gateway/internal/devserver"
)

// composeFile is the deployment the cluster follows: the gateway and the worker run with the
// environment it gives them, so that what the tests run is what users deploy.
const composeFile = "docker-compose.yml"

// composeDefaults are the variables the cluster sets when it reads composeFile: none of the
// launcher's, so every setting is the file's default. POSTGRES_PASSWORD is required by the file
// but reaches only the database's services, which the cluster runs itself.
var composeDefaults = map[string]string{"POSTGRES_PASSWORD": "unused-by-the-cluster"}

// productEnv is the gateway's and the worker's environment as composeFile gives it.
type productEnv struct {
	gateway, worker map[string]string
	// services are the Compose file's services: a value host:port with one of them as host is
	// an address on the Compose network.
	services map[string]compose.Service
}

// readProductEnv reads the gateway's and the worker's environment from composeFile at the root
// of the checkout.
func readProductEnv() (productEnv, error) {
	root, err := devserver.RepoRoot()
	if err != nil {
		return productEnv{}, err
	}
	services, err := compose.Load(filepath.Join(root, composeFile), composeDefaults)
	if err != nil {
		return productEnv{}, err
	}
	e := productEnv{services: services}
	for name, env := range map[string]*map[string]string{"gateway": &e.gateway, "worker": &e.worker} {
		s, ok := services[name]
		if !ok {
			return productEnv{}, fmt.Errorf("%s has no service %q", composeFile, name)
		}
		*env = s.Environment
	}
	// Fail before anything starts when the file names an address the cluster cannot stand in for.
	for _, name := range []string{"gateway", "worker"} {
		if _, err := e.on(name, map[string]string{frontendOnCompose: ""}); err != nil {
			return productEnv{}, err
		}
	}
	return e, nil
}

// frontendOnCompose is the Temporal frontend's address on the Compose network.
const frontendOnCompose = "temporal:7233"

// on is the named service's environment as KEY=VALUE with each Compose-network address replaced
// by what stands for it on loopback (loopback["temporal:7233"] is the frontend's address).
func (e productEnv) on(name string, loopback map[string]string) ([]string, error) {
	env := map[string]map[string]string{"gateway": e.gateway, "worker": e.worker}[name]
	var out []string
	for k, v := range env {
		if host, _, err := net.SplitHostPort(v); err == nil {
			if _, isService := e.services[host]; isService {
				addr, ok := loopback[v]
				if !ok {
					return nil, fmt.Errorf("%s: the %s's %s=%s is an address on the Compose network that the cluster does not stand in for", composeFile, name, k, v)
				}
				v = addr
			}
		}
		out = append(out, k+"="+v)
	}
	return out, nil
}

// composeTemporal is the Temporal server's service in composeFile.
const composeTemporal = "temporal"

// checkTemporal holds the Temporal server of composeFile to the config the cluster runs (the
// server module's development-postgres12.yaml, as rendered): the temporalio/server image renders
// its config from its environment (docker/config_template.yaml of the server, whose defaults are
// written here beside each setting), and each setting that image reads must come out as the
// cluster's config has it. The history shard count cannot change once a cluster has run, so the
// file must set it rather than rely on a default.
func (e productEnv) checkTemporal(config string) error {
	s, ok := e.services[composeTemporal]
	if !ok {
		return fmt.Errorf("%s has no service %q", composeFile, composeTemporal)
	}
	env := s.Environment
	if env["NUM_HISTORY_SHARDS"] == "" {
		return fmt.Errorf("%s: the %s service must set NUM_HISTORY_SHARDS (the cluster's config has %s)", composeFile, composeTemporal, setting(config, "numHistoryShards"))
	}
	or := func(k, def string) string {
		if v := env[k]; v != "" {
			return v
		}
		return def
	}
	for k, want := range map[string]string{
		"DB":                 "pluginName: " + strconv.Quote(or("DB", "cassandra")),
		"NUM_HISTORY_SHARDS": "numHistoryShards: " + env["NUM_HISTORY_SHARDS"],
		"DBNAME":             "databaseName: " + strconv.Quote(or("DBNAME", "temporal")),
		"VISIBILITY_DBNAME":  "databaseName: " + strconv.Quote(or("VISIBILITY_DBNAME", "temporal_visibility")),
		"SQL_MAX_CONNS":      "maxConns: " + or("SQL_MAX_CONNS", "20"),
	} {
		if !strings.Contains(config, want) {
			return fmt.Errorf("%s: the %s service's %s gives %q, which the config the cluster runs and tests does not have", composeFile, composeTemporal, k, want)
		}
	}
	return nil
}

// setting is the value of the first "key: value" line of a YAML text, for an error message.
func setting(text, key string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "none"
}

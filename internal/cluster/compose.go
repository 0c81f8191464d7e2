//go:build linux

package cluster

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/temporalhttp/gateway/internal/compose"
	"github.com/temporalhttp/gateway/internal/devserver"
)

// composeFile is the deployment the cluster follows: the gateway, the worker and the Temporal
// server run with the environment it gives them, so that what the tests run is what users deploy.
const composeFile = "docker-compose.yml"

// composeDefaults are the variables the cluster sets when it reads composeFile: none of the
// launcher's, so every setting is the file's default. POSTGRES_PASSWORD is required by the file;
// the cluster gives the database a password of its own.
var composeDefaults = map[string]string{"POSTGRES_PASSWORD": "unused-by-the-cluster"}

// The services of composeFile that the cluster runs the way the file does.
const (
	composeGateway  = "gateway"
	composeWorker   = "worker"
	composeTemporal = "temporal"
)

// frontendOnCompose is the Temporal frontend's address on the Compose network.
const frontendOnCompose = "temporal:7233"

// productEnv is what composeFile gives the services the cluster runs.
type productEnv struct {
	services map[string]compose.Service
}

// readProductEnv reads composeFile at the root of the checkout and checks that the cluster can
// stand in for every address on the Compose network that it gives the gateway and the worker.
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
	for _, name := range []string{composeGateway, composeWorker, composeTemporal} {
		if _, ok := services[name]; !ok {
			return productEnv{}, fmt.Errorf("%s has no service %q", composeFile, name)
		}
	}
	// Fail before anything starts when the file names an address the cluster cannot stand in for.
	for _, name := range []string{composeGateway, composeWorker} {
		if _, err := e.on(name, map[string]string{frontendOnCompose: ""}, func(string) string { return "" }); err != nil {
			return productEnv{}, err
		}
	}
	return e, nil
}

// env is the named service's environment.
func (e productEnv) env(name string) map[string]string { return e.services[name].Environment }

// on is the gateway's or the worker's environment as KEY=VALUE, with each address on the Compose
// network replaced by what stands for it on loopback (loopback["temporal:7233"] is the frontend's
// address), and each path in one of its named volumes by the same path under volumeDir(volume).
func (e productEnv) on(name string, loopback map[string]string, volumeDir func(volume string) string) ([]string, error) {
	mounts := map[string]string{} // path in the container -> volume
	for _, v := range e.services[name].Volumes {
		volume, path, ok := strings.Cut(v, ":")
		if !ok || strings.HasPrefix(volume, ".") || strings.HasPrefix(volume, "/") {
			return nil, fmt.Errorf("%s: the %s's volume %q is not a named volume, which the cluster cannot stand in for", composeFile, name, v)
		}
		path, _, _ = strings.Cut(path, ":") // :ro, :rw
		mounts[path] = volume
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(e.env(name))) {
		v := e.env(name)[k]
		if host, ok := e.networkHost(k, v); ok {
			addr, known := loopback[v]
			if !known {
				return nil, fmt.Errorf("%s: the %s's %s=%s names %s on the Compose network, which the cluster does not stand in for", composeFile, name, k, v, host)
			}
			v = addr
		}
		for path, volume := range mounts {
			if v == path || strings.HasPrefix(v, path+"/") {
				v = volumeDir(volume) + strings.TrimPrefix(v, path)
			}
		}
		out = append(out, k+"="+v)
	}
	return out, nil
}

// temporalOn is the temporal service's environment with loopback's settings in place of the
// file's; every setting left from the file must name no address on the Compose network.
func (e productEnv) temporalOn(loopback map[string]string) (map[string]string, error) {
	vars := maps.Clone(e.env(composeTemporal))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if _, replaced := loopback[k]; replaced {
			continue
		}
		if host, ok := e.networkHost(k, vars[k]); ok {
			return nil, fmt.Errorf("%s: the %s service's %s=%s names %s on the Compose network, which the cluster does not stand in for", composeFile, composeTemporal, k, vars[k], host)
		}
	}
	maps.Copy(vars, loopback)
	return vars, nil
}

// networkHost says whether the setting k=v is an address on the Compose network: a service's name
// as host:port or as the host of a URL, or alone in a setting named for hosts (POSTGRES_SEEDS,
// SQL_HOST); a bare word elsewhere (POSTGRES_USER=temporal) is not taken for one.
func (e productEnv) networkHost(k, v string) (string, bool) {
	host := ""
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(v); err == nil {
		host = h
	} else if strings.HasSuffix(k, "SEEDS") || strings.HasSuffix(k, "HOST") {
		host = v
	}
	_, ok := e.services[host]
	return host, ok
}

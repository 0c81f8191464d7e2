package config

import (
	"net/url"
	"strings"
)

// Cluster says how the local multi-service cluster (`go run ./cmd/dev cluster`) finds PostgreSQL.
// No deployable reads it.
type Cluster struct {
	// PostgresURL is an existing PostgreSQL to use (CLUSTER_POSTGRES_URL,
	// postgres://user:password@host:port); the user must be allowed to create databases. Empty
	// means a throwaway PostgreSQL run by the launcher on a free loopback port.
	PostgresURL *url.URL
	// PostgresBin is the directory of initdb and postgres for the throwaway server
	// (CLUSTER_POSTGRES_BIN); empty means Debian's /usr/lib/postgresql/15/bin, else PATH.
	PostgresBin string
	// CLI is where the pinned Temporal builds are cached.
	CLI TemporalCLI
}

// LoadCluster reads the cluster launcher's settings.
func LoadCluster(getenv func(string) string) (Cluster, error) {
	r := reader{getenv: getenv}
	cfg := Cluster{PostgresBin: r.str("CLUSTER_POSTGRES_BIN", ""), CLI: r.temporalCLI()}
	if raw := r.str("CLUSTER_POSTGRES_URL", ""); raw != "" {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			// Not err's text: it quotes the URL, password and all.
			r.fail("CLUSTER_POSTGRES_URL", "is not a URL of the form postgres://user:password@host:port")
		case u.Scheme != "postgres" && u.Scheme != "postgresql":
			r.fail("CLUSTER_POSTGRES_URL", "must start with postgres://")
		case u.Port() == "" || u.User == nil || u.User.Username() == "":
			r.fail("CLUSTER_POSTGRES_URL", "must name user, host and port: postgres://user:password@host:port")
		case strings.Trim(u.Path, "/") != "":
			r.fail("CLUSTER_POSTGRES_URL", "must name no database: the cluster creates temporal and temporal_visibility")
		case u.RawQuery != "":
			r.fail("CLUSTER_POSTGRES_URL", "must have no parameters (such as sslmode): the cluster would not pass them on")
		default:
			cfg.PostgresURL = u
		}
	}
	return cfg, r.err()
}

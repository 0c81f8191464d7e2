//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// database is one of the two the server needs, with its migrations in the server module.
type database struct {
	name      string
	schemaDir string // relative to the server module
}

var databases = []database{
	{"temporal", "schema/postgresql/v12/temporal/versioned"},
	{"temporal_visibility", "schema/postgresql/v12/visibility/versioned"},
}

// setupSchema creates both databases and migrates them to the server module's latest schema
// with temporal-sql-tool. Databases that already exist (an existing PostgreSQL used before) are
// only migrated: update-schema applies just the versions they lack.
func setupSchema(ctx context.Context, sqlTool, moduleDir string, pg *Postgres) error {
	for _, db := range databases {
		base := []string{"--ep", pg.Host, "-p", strconv.Itoa(pg.Port), "-u", pg.User, "--pl", "postgres12", "--db", db.name}
		run := func(args ...string) (string, error) {
			cmd := exec.CommandContext(ctx, sqlTool, append(append([]string{}, base...), args...)...)
			// The password by the environment, not on a command line that ps shows.
			cmd.Env = childEnv([]string{"SQL_PASSWORD=" + pg.Password})
			out, err := cmd.CombinedOutput()
			if err != nil {
				return string(out), fmt.Errorf("temporal-sql-tool %s on %s: %w\n%s", args[0], db.name, err, out)
			}
			return string(out), nil
		}
		if out, err := run("create-database"); err != nil {
			if !strings.Contains(out, "already exists") {
				return err
			}
		} else if _, err := run("setup-schema", "-v", "0.0"); err != nil {
			return err
		}
		if _, err := run("update-schema", "-d", filepath.Join(moduleDir, db.schemaDir)); err != nil {
			return err
		}
	}
	return nil
}

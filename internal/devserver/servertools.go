package devserver

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/temporalhttp/gateway/internal/config"
)

// serverModule is the Temporal server, which the CLI pins indirectly and tools/temporal/go.mod
// names as a tool: the cluster runs it at the very version the dev server embeds.
const serverModule = "go.temporal.io/server"

// ServerTools are the Temporal server's own binaries, built from the pinned server module.
type ServerTools struct {
	Version string
	// Server is temporal-server, which runs one or more of the four services.
	Server string
	// SQLTool is temporal-sql-tool, which creates and migrates the SQL schemas.
	SQLTool string
	// ModuleDir is the server module in the module cache: its config/ and schema/ directories
	// are the templates and migrations of that same version.
	ModuleDir string
}

// EnsureServer returns temporal-server and temporal-sql-tool at the version tools/temporal/go.mod
// pins, building each once into the cache beside the CLI's.
func EnsureServer(ctx context.Context, cfg config.TemporalCLI, progress io.Writer) (ServerTools, error) {
	root, err := RepoRoot()
	if err != nil {
		return ServerTools{}, err
	}
	version, err := pinnedVersion(root, serverModule)
	if err != nil {
		return ServerTools{}, err
	}
	tools := ServerTools{Version: version}
	for _, b := range []struct {
		name, pkg string
		path      *string
	}{
		{"temporal-server", serverModule + "/cmd/server", &tools.Server},
		{"temporal-sql-tool", serverModule + "/cmd/tools/sql", &tools.SQLTool},
	} {
		target, err := cachedToolPath(cfg, b.name, version)
		if err != nil {
			return ServerTools{}, err
		}
		if _, err := os.Stat(target); err != nil {
			fmt.Fprintf(progress, "Building %s %s once; it is cached at %s.\n", b.name, version, target)
			if err := buildTool(ctx, root, b.pkg, target, progress); err != nil {
				return ServerTools{}, fmt.Errorf("build %s %s: %w", b.name, version, err)
			}
		}
		*b.path = target
	}
	// The build above downloaded the module, so this reads the module cache only.
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", serverModule)
	cmd.Dir = filepath.Join(root, "tools", "temporal")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		return ServerTools{}, fmt.Errorf("find %s in the module cache: %w", serverModule, err)
	}
	tools.ModuleDir = strings.TrimSpace(string(out))
	if tools.ModuleDir == "" {
		return ServerTools{}, fmt.Errorf("%s is not in the module cache; run `cd tools/temporal && go mod download %s`", serverModule, serverModule)
	}
	return tools, nil
}

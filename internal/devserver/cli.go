// Package devserver finds or builds the pinned Temporal CLI and runs its development server
// (`temporal server start-dev`) as a child process that never outlives its parent.
package devserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/temporalhttp/gateway/internal/config"
)

// cliModule is the module whose version tools/temporal/go.mod pins.
const cliModule = "github.com/temporalio/cli"

// RepoRoot finds the checkout this program runs in: the nearest directory at or above the working
// directory that holds tools/temporal/go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "temporal", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the gateway's checkout (no tools/temporal/go.mod above the working directory)")
		}
		dir = parent
	}
}

// PinnedVersion reads the Temporal CLI version pinned in root/tools/temporal/go.mod.
func PinnedVersion(root string) (string, error) { return pinnedVersion(root, cliModule) }

// pinnedVersion reads the version of module that root/tools/temporal/go.mod requires.
func pinnedVersion(root, module string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "tools", "temporal", "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == module {
			return fields[1], nil
		}
		if len(fields) >= 3 && fields[0] == "require" && fields[1] == module {
			return fields[2], nil
		}
	}
	return "", fmt.Errorf("tools/temporal/go.mod does not require %s", module)
}

// CachePath is where the pinned CLI is kept once built: under cfg.CacheDir (TEMPORAL_HTTP_CACHE),
// or the user's cache directory.
func CachePath(cfg config.TemporalCLI, version string) (string, error) {
	dir := cfg.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("find a cache directory (set TEMPORAL_HTTP_CACHE): %w", err)
		}
		dir = filepath.Join(base, "temporalhttp")
	}
	return filepath.Join(dir, "temporal-"+version), nil
}

// cachedToolPath is where a binary named name at version is kept: beside the CLI's cache.
func cachedToolPath(cfg config.TemporalCLI, name, version string) (string, error) {
	cli, err := CachePath(cfg, version)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(cli), name+"-"+version), nil
}

// FindCLI returns a Temporal CLI without building one: cfg.Path (TEMPORAL_CLI), else the pinned
// build in the cache, else `temporal` on PATH. It returns "" when there is none.
func FindCLI(cfg config.TemporalCLI) (string, error) {
	if cfg.Path != "" {
		return cfg.Path, nil
	}
	if root, err := RepoRoot(); err == nil {
		version, err := PinnedVersion(root)
		if err != nil {
			return "", err
		}
		cached, err := CachePath(cfg, version)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(cached); err == nil {
			return cached, nil
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", nil
}

// EnsureCLI returns a Temporal CLI, building the pinned version into the cache when there is none.
// The build reads only the Go module proxy and checks every module against tools/temporal/go.sum.
func EnsureCLI(ctx context.Context, cfg config.TemporalCLI, progress io.Writer) (string, error) {
	if p, err := FindCLI(cfg); err != nil || p != "" {
		return p, err
	}
	root, err := RepoRoot()
	if err != nil {
		return "", fmt.Errorf("no Temporal CLI: set TEMPORAL_CLI or put `temporal` on PATH (%w)", err)
	}
	version, err := PinnedVersion(root)
	if err != nil {
		return "", err
	}
	target, err := CachePath(cfg, version)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "Building the Temporal CLI %s (the dev server) once; it is cached at %s.\n", version, target)
	fmt.Fprintln(progress, "A cold build takes 5 to 15 minutes on two cores and needs about 2 GB of module cache.")
	if err := buildTool(ctx, root, cliModule+"/cmd/temporal", target, progress); err != nil {
		return "", fmt.Errorf("build Temporal CLI %s: %w", version, err)
	}
	return target, nil
}

// buildTool builds pkg, a package the tools module names, into target. The build reads only the
// Go module proxy and checks every module against tools/temporal/go.sum; target appears only once
// complete, so an interrupted build leaves nothing that looks usable.
func buildTool(ctx context.Context, root, pkg, target string, progress io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	tmp := target + ".partial"
	cmd := exec.CommandContext(ctx, "go", "build", "-v", "-trimpath", "-o", tmp, pkg)
	cmd.Dir = filepath.Join(root, "tools", "temporal")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start go build: %w", err)
	}
	// go build -v names each package as it compiles it: count them so the wait is visibly moving.
	var tail []string
	n := 0
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		tail = append(tail[max(0, len(tail)-19):], line)
		if n++; n%100 == 0 {
			fmt.Fprintf(progress, "  ... %d packages compiled (%s)\n", n, time.Since(start).Round(time.Second))
		}
	}
	if err := cmd.Wait(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("%w\n%s", err, strings.Join(tail, "\n"))
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	fmt.Fprintf(progress, "Built %s in %s.\n", filepath.Base(target), time.Since(start).Round(time.Second))
	return nil
}

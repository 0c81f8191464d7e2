package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/devserver"
)

// TestTypeScriptClient runs the Node test of clients/typescript, the client generated from the
// spec, against the live stack: once against the suite's open gateway, and once against a gateway
// that demands an API key, which only the client's credentials middleware can satisfy.
func TestTypeScriptClient(t *testing.T) {
	dir := npmPackageDir(t, "clients/typescript")
	runNPM(t, dir, nil, "run", "build")

	key, entry := mintKey(t, "typescript", "read+start+schedule")
	guarded := startGuardedGateway(t, "GATEWAY_API_KEYS="+entry)
	for _, tc := range []struct {
		name string
		env  []string
	}{
		// An empty GATEWAY_API_KEY keeps one from the developer's environment out of the open run.
		{"open gateway", []string{"GATEWAY_URL=" + gatewayURL, "GATEWAY_API_KEY="}},
		{"gateway with API keys", []string{"GATEWAY_URL=" + guarded, "GATEWAY_API_KEY=" + key}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runNPM(t, dir, tc.env, "run", "test:built")
		})
	}
}

// npmPackageDir is the directory of the npm package rel (relative to the repository root), once
// Node, npm and the package's node_modules are there. `npm ci` installs them before `go test`
// (make test does); without them the test is skipped on a developer's machine and fails in CI,
// which must run it.
func npmPackageDir(t *testing.T, rel string) string {
	t.Helper()
	root, err := devserver.RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(root, rel)
	missing := func() string {
		for _, tool := range []string{"node", "npm"} {
			if _, err := exec.LookPath(tool); err != nil {
				return "no " + tool + " on PATH: install Node.js 20 or later"
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
			return "no " + rel + "/node_modules: run `npm ci` in " + rel
		}
		return ""
	}()
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatal(missing + " - CI never skips the Node tests")
		}
		t.Skip(missing)
	}
	return dir
}

// runNPM runs npm with args in dir, with env added to this process's environment, and fails the
// test when it fails. Its output is logged either way, so the Node test's own report shows.
func runNPM(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("npm %v:\n%s", args, out)
	require.NoError(t, err, "npm %v failed; its output is above", args)
}

// TestTypeScriptRefusesAStringAmount is a negative compile test: the program in
// clients/typescript/negative passes a MoneyTransfer's `amount` as a string, which the typed
// contract makes a compile error, so tsc must fail, and fail on that field.
func TestTypeScriptRefusesAStringAmount(t *testing.T) {
	dir := npmPackageDir(t, "clients/typescript")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join("node_modules", ".bin", "tsc"), "-p", filepath.Join("negative", "tsconfig.json"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("tsc -p negative/tsconfig.json:\n%s", out)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "tsc must refuse the program")
	require.Contains(t, string(out), "negative/amount-as-string.ts(9,", "the error is on the amount's line")
	require.Contains(t, string(out), "error TS2322: Type 'string' is not assignable to type 'number'")
	require.Equal(t, 1, strings.Count(string(out), "error TS"), "that is the only error")
}

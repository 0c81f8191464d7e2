package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ignoreRule struct {
	glob   string
	negate bool
}

// readDockerignore reads ../.dockerignore. Only the patterns it uses are supported (no **).
func readDockerignore(t *testing.T) []ignoreRule {
	t.Helper()
	f, err := os.Open(repoFile(t, ".dockerignore"))
	require.NoError(t, err)
	defer f.Close()
	var rules []ignoreRule
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		require.NotContains(t, line, "**", "this check does not implement ** yet: extend ignored()")
		r := ignoreRule{glob: line}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			r = ignoreRule{glob: rest, negate: true}
		}
		r.glob = path.Clean(strings.TrimPrefix(r.glob, "/"))
		rules = append(rules, r)
	}
	require.NoError(t, sc.Err())
	return rules
}

// ignored says whether Docker leaves rel (slash-separated, relative to the context) out of the
// build context: the last rule matching it or one of its parent directories decides.
func ignored(rules []ignoreRule, rel string) bool {
	out := false
	for _, r := range rules {
		for p := rel; p != "." && p != "/"; p = path.Dir(p) {
			if ok, _ := path.Match(r.glob, p); ok {
				out = !r.negate
				break
			}
		}
	}
	return out
}

// TestDockerignoreKeepsWhatTheBuildReads lists every file of this module that the two binaries
// are built from, embedded files included, and checks that each one is in the build context.
func TestDockerignoreKeepsWhatTheBuildReads(t *testing.T) {
	rules := readDockerignore(t)
	root := repoFile(t, "")
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,ImportPath,GoFiles,EmbedFiles,Module", "./cmd/server", "./cmd/worker")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())

	files := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var pkg struct {
			Dir, ImportPath     string
			GoFiles, EmbedFiles []string
			Module              *struct{ Main bool }
		}
		if err := dec.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		if pkg.Module == nil || !pkg.Module.Main {
			continue
		}
		rel, err := filepath.Rel(root, pkg.Dir)
		require.NoError(t, err)
		for _, f := range append(pkg.GoFiles, pkg.EmbedFiles...) {
			files = append(files, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	require.Greater(t, len(files), 20, "go list found the packages")
	for _, f := range files {
		assert.False(t, ignored(rules, f), "%s is needed by the build but left out of the context by .dockerignore", f)
	}

	for _, secret := range []string{".env", ".git/config", "api-keys", "secrets/client.key", "client.pem", ".dev/temporal.db", "tools/temporal/go.mod"} {
		assert.True(t, ignored(rules, secret), "%s stays out of the build context", secret)
	}
}

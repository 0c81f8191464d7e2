// Package deploy_test checks the container build (../Dockerfile, ../.dockerignore) and the
// Compose stack (../docker-compose.yml) without a Docker engine: what they declare, that the
// binaries they build are static, and what docker-compose and shellcheck say about them.
package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoFile is the path of a file at the root of the repository.
func repoFile(t *testing.T, name string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	return filepath.Join(root, name)
}

// tool finds a command the checks need. In CI a missing tool fails the test; elsewhere it skips
// it, saying what to install.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " is not on PATH: install it with `apt-get install -y " + pkg + "` (.ci/run does)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " - CI never skips the deployment checks")
	}
	t.Skip(msg)
	return ""
}

package docs

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envconfigVariables are the variables that the Temporal SDK's envconfig package reads for the
// gateway and the worker (ClientConfigProfile.ApplyEnvVars, go.temporal.io/sdk/contrib/envconfig),
// which the code here never names itself. TEMPORAL_CODEC_* is left out: it is read, but the
// processes use no remote codec, so it does nothing.
var envconfigVariables = []string{
	"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_CLIENT_AUTHORITY",
	"TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_CERT_DATA",
	"TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_KEY_DATA", "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
	"TEMPORAL_TLS_SERVER_CA_CERT_DATA", "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
	"TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE",
}

var (
	// variableName is a string literal in Go code that names a setting, such as
	// "GATEWAY_MAX_WAIT". "NAME=value" (an environment made for a child process) is not one.
	variableName = regexp.MustCompile(`"((?:GATEWAY|WORKER|TEMPORAL|OTEL|LOG|DEV|CLUSTER)_[A-Z0-9_]*[A-Z0-9])"`)
	// tableRow is a row of the configuration table: | `NAME` | ...
	tableRow = regexp.MustCompile("^\\| `([A-Z][A-Z0-9_]*)` \\|")
)

// TestConfigurationTableListsWhatTheCodeReads: docs/configuration.md's table names every variable
// that the gateway, the worker and the launcher read (every setting named in their code), each
// once, and none that nothing reads.
func TestConfigurationTableListsWhatTheCodeReads(t *testing.T) {
	root := repoRoot(t)
	page, err := fs.ReadFile(root, "docs/configuration.md")
	require.NoError(t, err)
	var table []string
	listed := map[string]bool{}
	for _, line := range strings.Split(string(page), "\n") {
		if m := tableRow.FindStringSubmatch(line); m != nil {
			assert.False(t, listed[m[1]], "%s has one row", m[1])
			table, listed[m[1]] = append(table, m[1]), true
		}
	}
	require.NotEmpty(t, table, "docs/configuration.md has its table")

	read := map[string][]string{} // variable -> files naming it
	for _, dir := range []string{"cmd", "internal"} {
		err := fs.WalkDir(root, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Ext(p) != ".go" || strings.HasSuffix(p, "_test.go") {
				return err
			}
			src, err := fs.ReadFile(root, p)
			if err != nil {
				return err
			}
			for _, m := range variableName.FindAllStringSubmatch(string(src), -1) {
				if !slices.Contains(read[m[1]], p) {
					read[m[1]] = append(read[m[1]], p)
				}
			}
			return nil
		})
		require.NoError(t, err)
	}
	require.Contains(t, read, "GATEWAY_MAX_WAIT", "the scan finds the settings in internal/config")

	for name, files := range read {
		assert.True(t, listed[name], "%s is read by %s but is not in docs/configuration.md's table", name, files)
	}
	for _, name := range table {
		_, named := read[name]
		assert.True(t, named || slices.Contains(envconfigVariables, name),
			"docs/configuration.md lists %s, which nothing reads", name)
	}
}

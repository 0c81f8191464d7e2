package deploy_test

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerfileBuildsStaticBinaries runs the Dockerfile's own `go build` line, with the build
// stage's ENV, and proves that what it makes runs on an empty image: no program interpreter (the
// dynamic loader) and no shared library needed. It also reads back the flags the binaries were built with.
func TestDockerfileBuildsStaticBinaries(t *testing.T) {
	build := stageNamed(t, readDockerfile(t), "build")
	line := buildLine(t, build)
	require.Contains(t, line, " -o /out/ ")
	out := t.TempDir()
	cmd := exec.Command("sh", "-c", strings.Replace(line, " -o /out/ ", " -o "+out+"/ ", 1))
	cmd.Dir = repoFile(t, "")
	cmd.Env = os.Environ()
	for k, v := range env([]stage{build}) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n%s", line, output)

	for _, name := range []string{"server", "worker"} {
		t.Run(name, func(t *testing.T) {
			bin := filepath.Join(out, name)
			f, err := elf.Open(bin)
			require.NoError(t, err)
			defer f.Close()
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "no dynamic loader")
				assert.NotEqual(t, elf.PT_DYNAMIC, p.Type, "no dynamic section")
			}
			libs, err := f.ImportedLibraries()
			require.NoError(t, err)
			assert.Empty(t, libs, "no shared library")

			info, err := buildinfo.ReadFile(bin)
			require.NoError(t, err)
			settings := map[string]string{}
			for _, s := range info.Settings {
				settings[s.Key] = s.Value
			}
			assert.Equal(t, "0", settings["CGO_ENABLED"])
			assert.Equal(t, "true", settings["-trimpath"])
			assert.Equal(t, "timetzdata", settings["-tags"])
			// With -trimpath the build info leaves -ldflags out; -s -w show as missing tables.
			assert.Nil(t, f.Section(".symtab"), "-s: no symbol table")
			assert.Nil(t, f.Section(".debug_info"), "-w: no DWARF")
		})
	}
}

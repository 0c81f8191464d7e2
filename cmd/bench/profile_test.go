package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildOverlay(t *testing.T) {
	t.Run("nothing to overlay", func(t *testing.T) {
		path, err := buildOverlay(t.TempDir(), "", "")
		require.NoError(t, err)
		assert.Empty(t, path)
	})
	t.Run("profiling writes the pprof listener's address into the gateway", func(t *testing.T) {
		dir := t.TempDir()
		path, err := buildOverlay(dir, "", "127.0.0.1:6061")
		require.NoError(t, err)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		var overlay struct{ Replace map[string]string }
		require.NoError(t, json.Unmarshal(data, &overlay))
		require.Len(t, overlay.Replace, 1)
		for target, src := range overlay.Replace {
			assert.True(t, strings.HasSuffix(target, filepath.Join("cmd", "server", "zz_bench_pprof.go")), target)
			file, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
			require.NoError(t, err, "the overlaid source compiles")
			assert.Equal(t, "main", file.Name.Name)
			code, err := os.ReadFile(src)
			require.NoError(t, err)
			assert.Contains(t, string(code), `http.ListenAndServe("127.0.0.1:6061", nil)`)
			assert.NotContains(t, string(code), "Getenv", "the gateway reads no benchmark setting")
		}
	})
}

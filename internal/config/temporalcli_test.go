package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadTemporalCLI(t *testing.T) {
	dir := t.TempDir()
	binary := filepath.Join(dir, "temporal")
	require.NoError(t, os.WriteFile(binary, []byte("#!/bin/sh\n"), 0o755))

	tests := []struct {
		name    string
		vars    map[string]string
		want    TemporalCLI
		problem string
	}{
		{name: "defaults: find or build the pinned CLI in the user's cache", want: TemporalCLI{}},
		{name: "a binary and a cache", vars: map[string]string{"TEMPORAL_CLI": binary, "TEMPORAL_HTTP_CACHE": dir},
			want: TemporalCLI{Path: binary, CacheDir: dir}},
		{name: "a binary that is not there", vars: map[string]string{"TEMPORAL_CLI": filepath.Join(dir, "missing")},
			problem: "TEMPORAL_CLI names no file"},
		{name: "a directory", vars: map[string]string{"TEMPORAL_CLI": dir}, problem: "TEMPORAL_CLI names a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadTemporalCLI(env(tt.vars))
			if tt.problem != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.problem)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

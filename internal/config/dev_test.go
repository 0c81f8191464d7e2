package config

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadDevDefaults(t *testing.T) {
	cfg, err := LoadDev(env(nil))
	require.NoError(t, err)
	assert.Equal(t, ".dev", cfg.DataDir)
	assert.Equal(t, 8233, cfg.UIPort)
	assert.Equal(t, "127.0.0.1", cfg.TemporalHost)
	assert.Equal(t, 7233, cfg.TemporalPort)
	assert.Equal(t, Log{Level: slog.LevelInfo, Format: "text"}, cfg.Gateway.Log, "readable logs at a terminal")
	assert.Equal(t, "text", cfg.Worker.Log.Format)
	assert.Equal(t, filepath.Join(".dev", "bank.json"), cfg.Worker.BankFile, "the ledger beside the dev server's database")
	assert.Equal(t, "127.0.0.1:8080", cfg.Gateway.HTTPAddr, "the deployables' defaults otherwise")
	assert.Equal(t, TemporalCLI{}, cfg.CLI)
}

func TestLoadDevReadsTheEnvironment(t *testing.T) {
	cfg, err := LoadDev(env(map[string]string{
		"DEV_DATA_DIR": "/tmp/dev", "DEV_UI_PORT": "9233", "TEMPORAL_ADDRESS": "localhost:7300", "LOG_FORMAT": "json",
		"WORKER_BANK_FILE": "/var/bank.json", "TEMPORAL_HTTP_CACHE": "/tmp/cache", "GATEWAY_HTTP_ADDR": "127.0.0.1:9000",
	}))
	require.NoError(t, err)
	assert.Equal(t, "/tmp/dev", cfg.DataDir)
	assert.Equal(t, 9233, cfg.UIPort)
	assert.Equal(t, "localhost", cfg.TemporalHost)
	assert.Equal(t, 7300, cfg.TemporalPort)
	assert.Equal(t, "localhost:7300", cfg.Worker.Temporal.Address)
	assert.Equal(t, "json", cfg.Gateway.Log.Format)
	assert.Equal(t, "/var/bank.json", cfg.Worker.BankFile)
	assert.Equal(t, "/tmp/cache", cfg.CLI.CacheDir)
	assert.Equal(t, "127.0.0.1:9000", cfg.Gateway.HTTPAddr)
}

func TestLoadDevRefusesInvalidSettingsNamingEachOnce(t *testing.T) {
	tests := []struct {
		name     string
		vars     map[string]string
		problems []string
	}{
		{"UI port not a number", map[string]string{"DEV_UI_PORT": "ui"}, []string{"DEV_UI_PORT must be a port number"}},
		{"UI port out of range", map[string]string{"DEV_UI_PORT": "70000"}, []string{"DEV_UI_PORT must be a port number"}},
		{"Temporal port not a number", map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:grpc"}, []string{"TEMPORAL_ADDRESS must end in a port number"}},
		{"Temporal address without a port", map[string]string{"TEMPORAL_ADDRESS": "temporal"}, []string{"TEMPORAL_ADDRESS must be host:port"}},
		{"a setting of both processes", map[string]string{"LOG_LEVEL": "loud"}, []string{"LOG_LEVEL must be"}},
		{"one of each process", map[string]string{"GATEWAY_MAX_WAIT": "0s", "WORKER_SHUTDOWN_TIMEOUT": "0s"},
			[]string{"GATEWAY_MAX_WAIT must be positive", "WORKER_SHUTDOWN_TIMEOUT must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadDev(env(tt.vars))
			require.Error(t, err)
			for _, p := range tt.problems {
				assert.Contains(t, err.Error(), p)
			}
			assert.Equal(t, len(tt.problems), strings.Count(err.Error(), " must "), "each problem said once: %v", err)
		})
	}
}

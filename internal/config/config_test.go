package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadGatewayDefaults(t *testing.T) {
	cfg, err := LoadGateway(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7233", cfg.Temporal.Address)
	assert.Equal(t, "default", cfg.Temporal.Namespace)
	assert.Equal(t, "http-gateway", cfg.Temporal.TaskQueue)
	assert.False(t, cfg.Temporal.TLS, "a local dev server speaks plain gRPC")
	assert.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr)
	assert.Equal(t, int64(2<<20), cfg.MaxBodyBytes)
	assert.Equal(t, 10*time.Second, cfg.TemporalTimeout)
	assert.Equal(t, 60*time.Second, cfg.MaxWait)
	assert.Equal(t, int64(10_000), cfg.ClosedCacheSize)
	assert.Equal(t, 100, cfg.ConcurrentWaitsPerCaller)
	assert.Equal(t, 10_000, cfg.ConcurrentWaits)
	assert.False(t, cfg.AllowAnyWorkflowType)
	assert.Equal(t, Log{Level: slog.LevelInfo, Format: "json"}, cfg.Log)
}

func TestLoadGatewayReadsTheEnvironment(t *testing.T) {
	cfg, err := LoadGateway(env(map[string]string{
		"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "prod", "TEMPORAL_TASK_QUEUE": "orders",
		"GATEWAY_HTTP_ADDR": ":9000", "GATEWAY_ALLOW_ANY_WORKFLOW_TYPE": "true", "GATEWAY_MAX_BODY_BYTES": "4096",
		"GATEWAY_TEMPORAL_TIMEOUT": "3s", "LOG_LEVEL": "debug", "LOG_FORMAT": "text",
		"GATEWAY_ALLOW_UNAUTHENTICATED":       "true", // :9000 listens on every interface
		"GATEWAY_CONCURRENT_WAITS_PER_CALLER": "3", "GATEWAY_CONCURRENT_WAITS": "5",
	}))
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.ConcurrentWaitsPerCaller)
	assert.Equal(t, 5, cfg.ConcurrentWaits)
	assert.Equal(t, "temporal:7233", cfg.Temporal.Address)
	assert.Equal(t, "prod", cfg.Temporal.Namespace)
	assert.Equal(t, "orders", cfg.Temporal.TaskQueue)
	assert.Equal(t, ":9000", cfg.HTTPAddr)
	assert.True(t, cfg.AllowAnyWorkflowType)
	assert.Equal(t, int64(4096), cfg.MaxBodyBytes)
	assert.Equal(t, 3*time.Second, cfg.TemporalTimeout)
	assert.Equal(t, Log{Level: slog.LevelDebug, Format: "text"}, cfg.Log)
}

func TestLoadRefusesInvalidSettingsNamingEachOne(t *testing.T) {
	_, err := LoadGateway(env(map[string]string{
		"TEMPORAL_ADDRESS": "no-port", "GATEWAY_HTTP_ADDR": "8080", "GATEWAY_MAX_BODY_BYTES": "10",
		"GATEWAY_TEMPORAL_TIMEOUT": "soon", "GATEWAY_ALLOW_ANY_WORKFLOW_TYPE": "maybe", "LOG_LEVEL": "loud", "LOG_FORMAT": "xml",
		"GATEWAY_MAX_WAIT": "0s", "GATEWAY_CLOSED_CACHE_SIZE": "0",
	}))
	require.Error(t, err)
	for _, name := range []string{"TEMPORAL_ADDRESS", "GATEWAY_HTTP_ADDR", "GATEWAY_MAX_BODY_BYTES", "GATEWAY_TEMPORAL_TIMEOUT",
		"GATEWAY_ALLOW_ANY_WORKFLOW_TYPE", "LOG_LEVEL", "LOG_FORMAT", "GATEWAY_MAX_WAIT", "GATEWAY_CLOSED_CACHE_SIZE"} {
		assert.Contains(t, err.Error(), name)
	}

	_, err = LoadWorker(env(map[string]string{"WORKER_SHUTDOWN_TIMEOUT": "-1s", "WORKER_METRICS_ADDR": "9090"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WORKER_SHUTDOWN_TIMEOUT")
	assert.Contains(t, err.Error(), "WORKER_METRICS_ADDR")
}

func TestLoadRefusesWaitBoundsThatBindNothing(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		problem string
	}{
		{"zero per caller", map[string]string{"GATEWAY_CONCURRENT_WAITS_PER_CALLER": "0"}, "GATEWAY_CONCURRENT_WAITS_PER_CALLER must be a whole number from 1"},
		{"negative total", map[string]string{"GATEWAY_CONCURRENT_WAITS": "-1"}, "GATEWAY_CONCURRENT_WAITS must be a whole number from 1"},
		{"total beyond an int32", map[string]string{"GATEWAY_CONCURRENT_WAITS": "4294967296"}, "GATEWAY_CONCURRENT_WAITS must be a whole number from 1"},
		{"not a number", map[string]string{"GATEWAY_CONCURRENT_WAITS": "lots"}, "GATEWAY_CONCURRENT_WAITS must be a whole number"},
		{"per caller above the total", map[string]string{"GATEWAY_CONCURRENT_WAITS_PER_CALLER": "20", "GATEWAY_CONCURRENT_WAITS": "10"},
			"GATEWAY_CONCURRENT_WAITS_PER_CALLER must not be above GATEWAY_CONCURRENT_WAITS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadGateway(env(tt.vars))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.problem)
			assert.Equal(t, 1, strings.Count(err.Error(), " must "), "one problem, said once: %v", err)
		})
	}
}

func TestLoadWorkerBankSettings(t *testing.T) {
	cfg, err := LoadWorker(env(nil))
	require.NoError(t, err)
	assert.Empty(t, cfg.BankFile, "the ledger is in memory unless a file is named")

	cfg, err = LoadWorker(env(map[string]string{"WORKER_BANK_FILE": "/var/lib/worker/bank.json", "WORKER_BANK_DELAY": "-1s"}))
	require.NoError(t, err, "the worker's configuration ignores the test hooks, valid or not")
	assert.Equal(t, "/var/lib/worker/bank.json", cfg.BankFile)
}

func TestLoadGatewayTaskQueues(t *testing.T) {
	cfg, err := LoadGateway(env(nil))
	require.NoError(t, err)
	assert.Empty(t, cfg.TaskQueues, "only the deployment's own queue by default")
	assert.False(t, cfg.AnyTaskQueue)

	cfg, err = LoadGateway(env(map[string]string{"GATEWAY_TASK_QUEUES": "payments, reports ,"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"payments", "reports"}, cfg.TaskQueues)

	cfg, err = LoadGateway(env(map[string]string{"GATEWAY_TASK_QUEUES": "*"}))
	require.NoError(t, err)
	assert.True(t, cfg.AnyTaskQueue)

	_, err = LoadGateway(env(map[string]string{"GATEWAY_TASK_QUEUES": "*,payments"}))
	require.ErrorContains(t, err, "GATEWAY_TASK_QUEUES")
}

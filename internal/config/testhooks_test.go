package config

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadWorkerTestHooks(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		want    WorkerTestHooks
		problem string
	}{
		{name: "none by default", want: WorkerTestHooks{}},
		{name: "a bank delay", vars: map[string]string{"WORKER_BANK_DELAY": "60s"}, want: WorkerTestHooks{BankDelay: time.Minute}},
		{name: "a negative delay", vars: map[string]string{"WORKER_BANK_DELAY": "-1s"}, problem: "WORKER_BANK_DELAY must not be negative"},
		{name: "not a duration", vars: map[string]string{"WORKER_BANK_DELAY": "60"}, problem: "WORKER_BANK_DELAY must be a duration"},
		{name: "nothing else is read", vars: map[string]string{"WORKER_SHUTDOWN_TIMEOUT": "-1s", "TEMPORAL_ADDRESS": "no-port"}, want: WorkerTestHooks{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hooks, err := LoadWorkerTestHooks(env(tt.vars))
			if tt.problem != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.problem)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, hooks)
			assert.Equal(t, tt.want.BankDelay != 0, hooks.Set())
		})
	}
}

func TestWorkerTestHooksWarnOnlyWhenSet(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&out, nil))
	WorkerTestHooks{}.WarnIfSet(logger)
	assert.Empty(t, out.String(), "a deployment that sets no hook hears nothing of them")
	WorkerTestHooks{BankDelay: time.Second}.WarnIfSet(logger)
	assert.Contains(t, out.String(), "level=WARN")
	assert.Contains(t, out.String(), "bank_delay=1s")
}

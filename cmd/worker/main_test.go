package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The worker reports an invalid setting and an invalid test hook together, before it dials.
func TestRunRefusesInvalidSettingsAndTestHooksAtOnce(t *testing.T) {
	vars := map[string]string{"WORKER_SHUTDOWN_TIMEOUT": "0s", "WORKER_BANK_DELAY": "-1s"}
	err := run(t.Context(), []string{"worker"}, func(name string) string { return vars[name] }, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WORKER_SHUTDOWN_TIMEOUT must be positive")
	assert.Contains(t, err.Error(), "WORKER_BANK_DELAY must not be negative")
}

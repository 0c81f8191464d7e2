package temporal

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// newEnv gives a fresh test environment with everything registered the way the worker does it,
// through Register, over a bank opened with SeedAccounts. Workflows are started by their public
// name, so a test also fails when Register stops hosting a type under that name.
func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *Bank) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	// The SDK logs every workflow task; t.Output shows it only for a failing test or with -v.
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	env := s.NewTestWorkflowEnvironment()
	bank := NewBank(SeedAccounts)
	Register(env, &Activities{Bank: bank})
	return env, bank
}

// requireAppError asserts that err holds a *temporal.ApplicationError, the first one in its
// chain having type wantType, and returns it.
func requireAppError(t *testing.T, err error, wantType string) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, wantType, appErr.Type(), "application error type; error: %v", err)
	return appErr
}

// balances reads every seed account's balance.
func balances(t *testing.T, bank *Bank) map[string]int64 {
	t.Helper()
	got := make(map[string]int64, len(SeedAccounts))
	for account := range SeedAccounts {
		cents, ok := bank.Balance(account)
		require.True(t, ok, "seed account %q missing from the bank", account)
		got[account] = cents
	}
	return got
}

// seedWith returns SeedAccounts' balances with the given ones changed.
func seedWith(changes map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(SeedAccounts))
	for account, cents := range SeedAccounts {
		out[account] = cents
	}
	for account, cents := range changes {
		out[account] = cents
	}
	return out
}

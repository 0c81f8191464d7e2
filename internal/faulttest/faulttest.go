// Package faulttest holds what the fault tests of the end-to-end suite (internal/e2e) and of the
// cluster (internal/cluster) both read after they break something: the sample ledger's file and
// how often a transfer's withdrawal ran. It is imported by tests only.
package faulttest

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/temporal"
)

// ReadLedger reads the ledger a worker keeps in file (WORKER_BANK_FILE): the seed balances and
// nothing else until its first movement writes it.
func ReadLedger(t testing.TB, file string) temporal.LedgerFile {
	t.Helper()
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return temporal.LedgerFile{Balances: maps.Clone(temporal.SeedAccounts)}
	}
	require.NoError(t, err)
	// Into an empty one: the file's balances replace the seed whole, as the worker reads them.
	var l temporal.LedgerFile
	require.NoError(t, json.Unmarshal(data, &l), "the file is replaced whole, never seen half written")
	return l
}

// Total is the money in all the accounts, in cents.
func Total(balances map[string]int64) int64 {
	var sum int64
	for _, cents := range balances {
		sum += cents
	}
	return sum
}

// WithdrawAttempt is the attempt of the WithdrawForTransfer activity that started last in the
// run's history: 2 when a worker died holding the first.
func WithdrawAttempt(t testing.TB, c client.Client, id, runID string) int32 {
	t.Helper()
	withdraw := map[int64]bool{} // scheduled event ids of WithdrawForTransfer
	var attempt int32
	it := c.GetWorkflowHistory(t.Context(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "WithdrawForTransfer" {
			withdraw[e.GetEventId()] = true
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && withdraw[a.GetScheduledEventId()] {
			attempt = a.GetAttempt()
		}
	}
	require.NotZero(t, attempt, "%s: no started WithdrawForTransfer in the history", id)
	return attempt
}

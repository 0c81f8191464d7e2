package temporal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBankMove(t *testing.T) {
	type move struct {
		key     string
		account string
		delta   int64
	}
	tests := []struct {
		name         string
		moves        []move // applied in order before the checked one
		move         move
		wantErr      error
		wantBalances map[string]int64
	}{
		{
			name:         "deposit",
			move:         move{"k1", "charlie", 250},
			wantBalances: seedWith(map[string]int64{"charlie": 250}),
		},
		{
			name:         "withdrawal down to zero",
			move:         move{"k1", "bob", -50_000},
			wantBalances: seedWith(map[string]int64{"bob": 0}),
		},
		{
			name:         "overdraft",
			move:         move{"k1", "bob", -50_001},
			wantErr:      ErrInsufficientFunds,
			wantBalances: seedWith(nil),
		},
		{
			name:         "unknown account",
			move:         move{"k1", "zed", 10},
			wantErr:      ErrAccountNotFound,
			wantBalances: seedWith(nil),
		},
		{
			name:         "a failed move does not spend its key",
			moves:        []move{{"k1", "charlie", -1}},
			move:         move{"k1", "charlie", 5},
			wantBalances: seedWith(map[string]int64{"charlie": 5}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bank := NewBank(SeedAccounts)
			for _, m := range tt.moves {
				_, _ = bank.Move(m.key, m.account, m.delta)
			}
			tx, err := bank.Move(tt.move.key, tt.move.account, tt.move.delta)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Empty(t, tx)
			} else {
				require.NoError(t, err)
				assert.NotEmpty(t, tx)
			}
			assert.Equal(t, tt.wantBalances, balances(t, bank))
		})
	}
}

func TestBankMoveIsIdempotentPerKey(t *testing.T) {
	bank := NewBank(SeedAccounts)

	first, err := bank.Move("run-1/withdraw", "alice", -1_000)
	require.NoError(t, err)
	again, err := bank.Move("run-1/withdraw", "alice", -1_000)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a repeated key returns the first transaction id")

	// A repeated key changes nothing even when its movement would now be refused.
	again, err = bank.Move("run-1/withdraw", "alice", -1_000_000)
	require.NoError(t, err)
	assert.Equal(t, first, again)

	other, err := bank.Move("run-2/withdraw", "alice", -1_000)
	require.NoError(t, err)
	assert.NotEqual(t, first, other, "a new key is a new transaction")

	assert.Equal(t, seedWith(map[string]int64{"alice": 98_000}), balances(t, bank))
}

// Concurrent retries of one movement, as two workers might run them, still apply it once.
func TestBankMoveConcurrentSameKey(t *testing.T) {
	bank := NewBank(SeedAccounts)
	const n = 50
	txs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tx, err := bank.Move("run-1/deposit", "charlie", 100)
			assert.NoError(t, err)
			txs[i] = tx
		})
	}
	wg.Wait()
	for _, tx := range txs {
		assert.Equal(t, txs[0], tx)
	}
	assert.Equal(t, seedWith(map[string]int64{"charlie": 100}), balances(t, bank))
}

func TestNewBankCopiesBalances(t *testing.T) {
	seed := map[string]int64{"dora": 10}
	bank := NewBank(seed)
	_, err := bank.Move("k", "dora", 5)
	require.NoError(t, err)

	assert.Equal(t, int64(10), seed["dora"], "the seed map is not the ledger")
	got, ok := bank.Balance("dora")
	require.True(t, ok)
	assert.Equal(t, int64(15), got)
	_, ok = bank.Balance("zed")
	assert.False(t, ok)
}

// A bank kept in a file survives its process: a worker restarted on the file still knows every
// key it applied, so a retry of an activity that moved money before a crash moves nothing more.
func TestBankFileSurvivesReopening(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bank.json")
	bank, err := OpenBank(file, SeedAccounts, 0)
	require.NoError(t, err)
	assert.Equal(t, seedWith(nil), balances(t, bank), "a missing file opens with the seed")
	withdrawal, err := bank.Move("run-1/withdraw", "alice", -1_000)
	require.NoError(t, err)

	reopened, err := OpenBank(file, SeedAccounts, 0)
	require.NoError(t, err)
	again, err := reopened.Move("run-1/withdraw", "alice", -1_000)
	require.NoError(t, err)
	assert.Equal(t, withdrawal, again, "the key applied before the restart returns its transaction")
	deposit, err := reopened.Move("run-1/deposit", "bob", 1_000)
	require.NoError(t, err)
	assert.NotEqual(t, withdrawal, deposit, "transaction ids go on from the file's count")
	assert.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}), balances(t, reopened))

	var l LedgerFile
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &l))
	assert.Equal(t, LedgerFile{
		Balances:     seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}),
		Applied:      map[string]string{"run-1/withdraw": withdrawal, "run-1/deposit": deposit},
		Transactions: 2,
	}, l)
	entries, err := os.ReadDir(filepath.Dir(file))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

// A movement the file cannot hold does not count: it is undone, its key is not spent, and the
// error is an ordinary (retryable) one.
func TestBankFileUnwritableUndoesTheMovement(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	bank, err := OpenBank(filepath.Join(dir, "bank.json"), SeedAccounts, 0)
	require.NoError(t, err)

	_, err = bank.Move("run-1/withdraw", "alice", -1_000)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrInsufficientFunds)
	assert.Equal(t, seedWith(nil), balances(t, bank))

	require.NoError(t, os.Mkdir(dir, 0o700))
	tx, err := bank.Move("run-1/withdraw", "alice", -1_000)
	require.NoError(t, err)
	assert.Equal(t, "tx-000001", tx, "the failed attempt used no transaction id")
	assert.Equal(t, seedWith(map[string]int64{"alice": 99_000}), balances(t, bank))
}

func TestOpenBankRefusesAFileThatIsNotALedger(t *testing.T) {
	for name, content := range map[string]string{"not JSON": "{", "no balances": `{"applied":{}}`} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bank.json")
			require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
			_, err := OpenBank(file, SeedAccounts, 0)
			require.ErrorContains(t, err, file)
		})
	}
}

func TestBankDelayHoldsEachMovement(t *testing.T) {
	bank, err := OpenBank("", SeedAccounts, 50*time.Millisecond)
	require.NoError(t, err)
	began := time.Now()
	_, err = bank.Move("k", "charlie", 1)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(began), 50*time.Millisecond)
	assert.Equal(t, seedWith(map[string]int64{"charlie": 1}), balances(t, bank))
}

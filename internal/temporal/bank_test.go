package temporal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

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
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"bank.json", "bank.json.lock"}, names, "no temporary file is left behind; the lock file stays, empty")
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
	for name, content := range map[string]string{
		"not JSON":    "{",
		"no balances": `{"applied":{}}`,
		"transactions missing from the count": `{"balances":{"alice":1},"applied":{},"transactions":1,` +
			`"transfers":{"r":{"fromAccount":"alice","toAccount":"bob","amount":1,"owner":"o","withdrawal":"tx-000001","deposit":"tx-000002"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bank.json")
			require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
			_, err := OpenBank(file, SeedAccounts, 0)
			require.ErrorContains(t, err, file)
		})
	}
}

// The steps of one transfer, asked for in turn by the executions with its reference, which the
// ledger does not tell apart: each step is made once, by whichever asks first, and answered alike
// afterwards. No step waits for another execution. The transfer ends once, completed or undone.
func TestBankTransferSteps(t *testing.T) {
	step := TransferStep{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 1_000}
	with := func(s TransferStep, change func(*TransferStep)) TransferStep {
		change(&s)
		return s
	}
	type call struct {
		do      func(*Bank) (string, error)
		want    string // a transaction id; a refund's as refund/reversal
		wantErr error
	}
	withdraw := func(s TransferStep, want string, wantErr error) call {
		return call{func(b *Bank) (string, error) {
			t, err := b.Withdraw(s)
			return t.Withdrawal, err
		}, want, wantErr}
	}
	deposit := func(s TransferStep, want string, wantErr error) call {
		return call{func(b *Bank) (string, error) {
			t, err := b.Deposit(s)
			return t.Deposit, err
		}, want, wantErr}
	}
	complete := func(s TransferStep, wantErr error) call {
		return call{func(b *Bank) (string, error) {
			t, err := b.Complete(s)
			if err == nil && !t.Completed {
				return "", errors.New("Complete answered a transfer not completed")
			}
			return t.Withdrawal + "/" + t.Deposit, err
		}, "", wantErr}
	}
	// A refund's answer reads refund/reversal, and "completed" when the transfer stands.
	refund := func(s TransferStep, want string, wantErr error) call {
		return call{func(b *Bank) (string, error) {
			t, err := b.Refund(s)
			if t.Completed {
				return "completed", err
			}
			return t.Refund + "/" + t.Reversal, err
		}, want, wantErr}
	}
	move := func(account string, delta int64) call {
		return call{func(b *Bank) (string, error) { return b.Move(fmt.Sprint("move-", account, delta), account, delta) }, "", nil}
	}
	fromCharlie := with(step, func(s *TransferStep) { s.FromAccount = "charlie" })
	toZed := with(step, func(s *TransferStep) { s.ToAccount = "zed" })
	tests := []struct {
		name          string
		calls         []call
		wantBalances  map[string]int64
		wantVoided    bool
		wantCompleted bool
	}{
		{
			name: "each step is made once",
			calls: []call{withdraw(step, "tx-000001", nil), withdraw(step, "tx-000001", nil),
				deposit(step, "tx-000002", nil), deposit(step, "tx-000002", nil),
				complete(step, nil), complete(step, nil)},
			wantBalances:  seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}),
			wantCompleted: true,
		},
		{
			name: "a completed transfer is not undone: a refund answers it completed, and changes nothing",
			calls: []call{withdraw(step, "tx-000001", nil), deposit(step, "tx-000002", nil), complete(step, nil),
				refund(step, "completed", nil), withdraw(step, "tx-000001", nil), deposit(step, "tx-000002", nil)},
			wantBalances:  seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}),
			wantCompleted: true,
		},
		{
			name:         "an undone transfer is not completed",
			calls:        []call{withdraw(step, "tx-000001", nil), deposit(step, "tx-000002", nil), refund(step, "tx-000004/tx-000003", nil), complete(step, ErrTransferCanceled)},
			wantBalances: seedWith(nil),
			wantVoided:   true,
		},
		{
			name:         "no completion without a deposit on record",
			calls:        []call{complete(step, ErrNoDeposit), withdraw(step, "tx-000001", nil), complete(step, ErrNoDeposit)},
			wantBalances: seedWith(map[string]int64{"alice": 99_000}),
		},
		{
			name: "a refused withdrawal is answered again, even once the account could pay",
			calls: []call{withdraw(fromCharlie, "", ErrInsufficientFunds), move("charlie", 5_000),
				withdraw(fromCharlie, "", ErrInsufficientFunds), deposit(fromCharlie, "", ErrInsufficientFunds)},
			wantBalances: seedWith(map[string]int64{"charlie": 5_000}),
		},
		{
			name: "a refused deposit is answered again, and its withdrawal refunded",
			calls: []call{withdraw(toZed, "tx-000001", nil), deposit(toZed, "", ErrAccountNotFound),
				deposit(toZed, "", ErrAccountNotFound), refund(toZed, "tx-000002/", nil),
				// Another execution then fails as the first did: its withdrawal, the refused deposit.
				withdraw(toZed, "tx-000001", nil), deposit(toZed, "", ErrAccountNotFound), refund(toZed, "tx-000002/", nil),
				complete(toZed, ErrAccountNotFound)},
			wantBalances: seedWith(nil),
			wantVoided:   true,
		},
		{
			name: "the same reference for another transfer is refused",
			calls: []call{withdraw(step, "tx-000001", nil),
				withdraw(with(step, func(s *TransferStep) { s.Amount = 999 }), "", ErrReferenceConflict),
				deposit(with(step, func(s *TransferStep) { s.ToAccount = "charlie" }), "", ErrReferenceConflict),
				refund(with(step, func(s *TransferStep) { s.FromAccount = "bob" }), "", ErrReferenceConflict)},
			wantBalances: seedWith(map[string]int64{"alice": 99_000}),
		},
		{
			name: "a refund gives the withdrawal back, once, and stops the deposit",
			calls: []call{withdraw(step, "tx-000001", nil), refund(step, "tx-000002/", nil), refund(step, "tx-000002/", nil),
				deposit(step, "", ErrTransferCanceled), withdraw(step, "", ErrTransferCanceled)},
			wantBalances: seedWith(nil),
			wantVoided:   true,
		},
		{
			name: "a refund takes the deposit back too",
			calls: []call{withdraw(step, "tx-000001", nil), deposit(step, "tx-000002", nil),
				refund(step, "tx-000004/tx-000003", nil), withdraw(step, "", ErrTransferCanceled),
				deposit(step, "", ErrTransferCanceled)},
			wantBalances: seedWith(nil),
			wantVoided:   true,
		},
		{
			name: "a refund before the withdrawal stops it for good",
			calls: []call{refund(step, "/", nil), withdraw(step, "", ErrTransferCanceled),
				deposit(step, "", ErrTransferCanceled)},
			wantBalances: seedWith(nil),
			wantVoided:   true,
		},
		{
			// The refund reported that it could not undo the transfer: a later one, once bob has the
			// money again, must not undo it after all.
			name: "a deposit spent cannot be taken back: nothing is undone, and the transfer stands for good",
			calls: []call{withdraw(step, "tx-000001", nil), deposit(step, "tx-000002", nil), move("bob", -51_000),
				refund(step, "", ErrInsufficientFunds), move("bob", 51_000), refund(step, "completed", nil),
				complete(step, nil)},
			wantBalances:  seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}),
			wantCompleted: true,
		},
		{
			name:         "no deposit without a withdrawal on record",
			calls:        []call{deposit(step, "", ErrNoWithdrawal)},
			wantBalances: seedWith(nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bank := NewBank(SeedAccounts)
			for i, c := range tt.calls {
				got, err := c.do(bank)
				if c.wantErr != nil {
					require.ErrorIs(t, err, c.wantErr, "call %d", i)
					continue
				}
				require.NoError(t, err, "call %d", i)
				if c.want != "" {
					assert.Equal(t, c.want, got, "call %d", i)
				}
			}
			assert.Equal(t, tt.wantBalances, balances(t, bank))
			transfer, _ := bank.Transfer(step.ReferenceID)
			assert.Equal(t, tt.wantVoided, transfer.Voided, "voided")
			assert.Equal(t, tt.wantCompleted, transfer.Completed, "completed")
		})
	}
}

// A refusal answered again is the refusal the step first gave: the same message, the same error.
func TestBankTransferRefusalAnsweredAlike(t *testing.T) {
	bank := NewBank(SeedAccounts)
	step := TransferStep{ReferenceID: "ref-1", FromAccount: "charlie", ToAccount: "bob", Amount: 500}
	_, first := bank.Withdraw(step)
	require.ErrorIs(t, first, ErrInsufficientFunds)
	_, again := bank.Withdraw(step)
	require.ErrorIs(t, again, ErrInsufficientFunds)
	assert.Equal(t, first.Error(), again.Error())
	assert.Equal(t, `account "charlie" has 0 cents, needs 500: insufficient funds`, again.Error())
}

// A transfer kept in a file survives its process: the steps it made answer the same after a
// restart, and the next transaction ids go on from the file's count.
func TestBankTransferSurvivesReopening(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bank.json")
	step := TransferStep{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 1_000}
	bank, err := OpenBank(file, SeedAccounts, 0)
	require.NoError(t, err)
	withdrawn, err := bank.Withdraw(step)
	require.NoError(t, err)
	withdrawal := withdrawn.Withdrawal
	_, err = bank.Move("run-0/withdraw", "bob", -10)
	require.NoError(t, err)

	reopened, err := OpenBank(file, SeedAccounts, 0)
	require.NoError(t, err)
	again, err := reopened.Withdraw(step)
	require.NoError(t, err)
	assert.Equal(t, withdrawal, again.Withdrawal)
	deposited, err := reopened.Deposit(step)
	require.NoError(t, err)
	deposit := deposited.Deposit
	assert.Equal(t, "tx-000003", deposit)
	_, err = reopened.Complete(step)
	require.NoError(t, err)

	var l LedgerFile
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &l))
	assert.Equal(t, LedgerFile{
		Balances: seedWith(map[string]int64{"alice": 99_000, "bob": 50_990}),
		Transfers: map[string]Transfer{"ref-1": {FromAccount: "alice", ToAccount: "bob", Amount: 1_000,
			Withdrawal: withdrawal, Deposit: deposit, Completed: true}},
		Applied:      map[string]string{"run-0/withdraw": "tx-000002"},
		Transactions: 3,
	}, l)
}

// A ledger file written when only the first execution with a reference could move its money names
// that execution as the transfer's owner. It opens, and the transfer it left halfway is carried on
// by whichever execution asks for the next step.
func TestBankFileWithOwnersOpens(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bank.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"balances":{"alice":99000,"bob":50000,"charlie":0},"applied":{},"transactions":1,`+
		`"transfers":{"ref-1":{"fromAccount":"alice","toAccount":"bob","amount":1000,"owner":"first/run","withdrawal":"tx-000001"}}}`), 0o600))
	bank, err := OpenBank(file, SeedAccounts, 0)
	require.NoError(t, err)

	deposited, err := bank.Deposit(TransferStep{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 1_000})
	require.NoError(t, err)
	assert.Equal(t, "tx-000002", deposited.Deposit)
	assert.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}), balances(t, bank))
}

// A step the file cannot hold does not count: the movement and the record are undone, and the
// error is an ordinary (retryable) one; a refusal is not kept either.
func TestBankFileUnwritableUndoesTheTransferStep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	bank, err := OpenBank(filepath.Join(dir, "bank.json"), SeedAccounts, 0)
	require.NoError(t, err)
	step := TransferStep{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 1_000}
	refused := TransferStep{ReferenceID: "ref-2", FromAccount: "charlie", ToAccount: "bob", Amount: 1}

	_, err = bank.Withdraw(step)
	require.Error(t, err)
	_, err = bank.Withdraw(refused)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrInsufficientFunds, "the refusal is not answered before it is kept")
	_, err = bank.Refund(TransferStep{ReferenceID: "ref-3", FromAccount: "alice", ToAccount: "bob", Amount: 1})
	require.Error(t, err)
	assert.Equal(t, seedWith(nil), balances(t, bank))
	for _, ref := range []string{"ref-1", "ref-2", "ref-3"} {
		_, ok := bank.Transfer(ref)
		assert.False(t, ok, "%s has no record", ref)
	}

	require.NoError(t, os.Mkdir(dir, 0o700))
	withdrawn, err := bank.Withdraw(step)
	require.NoError(t, err)
	assert.Equal(t, "tx-000001", withdrawn.Withdrawal, "the failed attempt used no transaction id")
	assert.Equal(t, seedWith(map[string]int64{"alice": 99_000}), balances(t, bank))
}

// TestBankFileIsSharedByWorkers opens one ledger file twice, as two workers would, and moves money
// through both at once: every movement counts once, and a step one made is answered by the other.
func TestBankFileIsSharedByWorkers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bank.json")
	a, err := OpenBank(file, SeedAccounts, 0)
	require.NoError(t, err)
	b, err := OpenBank(file, SeedAccounts, 0)
	require.NoError(t, err)

	var wg sync.WaitGroup
	for i := range 40 {
		bank := []*Bank{a, b}[i%2]
		wg.Go(func() {
			s := TransferStep{ReferenceID: fmt.Sprintf("ref-%d", i), FromAccount: "alice", ToAccount: "bob", Amount: 1}
			_, err := bank.Withdraw(s)
			assert.NoError(t, err)
			_, err = bank.Deposit(s)
			assert.NoError(t, err)
		})
	}
	wg.Wait()

	s := TransferStep{ReferenceID: "ref-0", FromAccount: "alice", ToAccount: "bob", Amount: 1}
	first, ok := a.Transfer("ref-0")
	require.True(t, ok)
	again, err := b.Withdraw(s) // made through a, asked through b
	require.NoError(t, err)
	assert.Equal(t, first.Withdrawal, again.Withdrawal, "the other worker answers the withdrawal already made")

	reopened, err := OpenBank(file, SeedAccounts, 0)
	require.NoError(t, err)
	alice, _ := reopened.Balance("alice")
	bob, _ := reopened.Balance("bob")
	assert.Equal(t, SeedAccounts["alice"]-40, alice)
	assert.Equal(t, SeedAccounts["bob"]+40, bob)
	l := readLedgerFile(t, file)
	assert.Equal(t, 80, l.Transactions, "one withdrawal and one deposit per transfer, none lost to the other worker's write")
}

func readLedgerFile(t *testing.T, file string) LedgerFile {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var l LedgerFile
	require.NoError(t, json.Unmarshal(data, &l))
	return l
}

package temporal

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

// The steps of a transfer: the ledger's errors leave them as non-retryable application errors of
// the public types; success returns the transfer as the ledger then holds it.
func TestTransferStepActivities(t *testing.T) {
	var a *Activities
	in := TransferStepInput{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 300}
	step := TransferStep(in)
	made := func(steps ...func(*Bank, TransferStep) (Transfer, error)) func(*testing.T, *Bank) {
		return func(t *testing.T, b *Bank) {
			for _, do := range steps {
				_, err := do(b, step)
				require.NoError(t, err)
			}
		}
	}
	withdraw, deposit, complete, refund := (*Bank).Withdraw, (*Bank).Deposit, (*Bank).Complete, (*Bank).Refund
	tests := []struct {
		name         string
		before       func(*testing.T, *Bank)
		activity     any
		in           TransferStepInput
		want         TransferStepResult
		wantType     string
		wantBalances map[string]int64
	}{
		{
			name:         "withdraw",
			activity:     a.WithdrawForTransfer,
			in:           in,
			want:         TransferStepResult{WithdrawalID: "tx-000001"},
			wantBalances: seedWith(map[string]int64{"alice": 99_700}),
		},
		{
			name:         "withdraw overdraft",
			activity:     a.WithdrawForTransfer,
			in:           TransferStepInput{ReferenceID: "ref-1", FromAccount: "charlie", ToAccount: "bob", Amount: 300},
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(nil),
		},
		{
			name:         "deposit",
			before:       made(withdraw),
			activity:     a.DepositForTransfer,
			in:           in,
			want:         TransferStepResult{WithdrawalID: "tx-000001", DepositID: "tx-000002"},
			wantBalances: seedWith(map[string]int64{"alice": 99_700, "bob": 50_300}),
		},
		{
			name:         "deposit without a withdrawal",
			activity:     a.DepositForTransfer,
			in:           in,
			wantType:     ErrTypeNoWithdrawal,
			wantBalances: seedWith(nil),
		},
		{
			name:         "complete",
			before:       made(withdraw, deposit),
			activity:     a.CompleteTransfer,
			in:           in,
			want:         TransferStepResult{WithdrawalID: "tx-000001", DepositID: "tx-000002", Completed: true},
			wantBalances: seedWith(map[string]int64{"alice": 99_700, "bob": 50_300}),
		},
		{
			name:         "complete before the deposit",
			before:       made(withdraw),
			activity:     a.CompleteTransfer,
			in:           in,
			wantType:     ErrTypeNoDeposit,
			wantBalances: seedWith(map[string]int64{"alice": 99_700}),
		},
		{
			name:         "complete after an undo",
			before:       made(withdraw, deposit, refund),
			activity:     a.CompleteTransfer,
			in:           in,
			wantType:     ErrTypeTransferCanceled,
			wantBalances: seedWith(nil),
		},
		{
			name:         "undo",
			before:       made(withdraw, deposit),
			activity:     a.UndoTransfer,
			in:           in,
			want:         TransferStepResult{WithdrawalID: "tx-000001", DepositID: "tx-000002", RefundID: "tx-000004", ReversalID: "tx-000003", Undone: true},
			wantBalances: seedWith(nil),
		},
		{
			name:         "undo before the withdrawal",
			activity:     a.UndoTransfer,
			in:           in,
			want:         TransferStepResult{Undone: true},
			wantBalances: seedWith(nil),
		},
		{
			name:         "undo of a completed transfer",
			before:       made(withdraw, deposit, complete),
			activity:     a.UndoTransfer,
			in:           in,
			want:         TransferStepResult{WithdrawalID: "tx-000001", DepositID: "tx-000002", Completed: true},
			wantBalances: seedWith(map[string]int64{"alice": 99_700, "bob": 50_300}),
		},
		{
			name: "undo of a deposit spent",
			before: func(t *testing.T, b *Bank) {
				made(withdraw, deposit)(t, b)
				_, err := b.Move("spend", "bob", -50_300)
				require.NoError(t, err)
			},
			activity:     a.UndoTransfer,
			in:           in,
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(map[string]int64{"alice": 99_700, "bob": 0}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			bank := NewBank(SeedAccounts)
			if tt.before != nil {
				tt.before(t, bank)
			}
			env.RegisterActivity(&Activities{Bank: bank})

			val, err := env.ExecuteActivity(tt.activity, tt.in)
			if tt.wantType != "" {
				appErr := requireAppError(t, err, tt.wantType)
				assert.True(t, appErr.NonRetryable(), "a refusal is not retried")
			} else {
				require.NoError(t, err)
				var got TransferStepResult
				require.NoError(t, val.Get(&got))
				assert.Equal(t, tt.want, got)
			}
			assert.Equal(t, tt.wantBalances, balances(t, bank))
		})
	}
}

// Withdraw, Deposit and Refund, the steps of executions started before the steps of a transfer had
// names of their own. The ledger's errors leave them as non-retryable application errors of the
// public types; success returns the ledger's transaction id. A deposit completes the transfer,
// and a refund of a completed one fails with TransferCompletedError. A step without a reference is
// one of an execution started before transfers were kept by reference, made once per key.
func TestMoveActivities(t *testing.T) {
	var a *Activities
	step := MoveMoneyInput{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 300, Owner: "o"}
	with := func(change func(*MoveMoneyInput)) MoveMoneyInput {
		in := step
		change(&in)
		return in
	}
	withdrawn := func(b *Bank) {
		_, err := b.Withdraw(step.step())
		require.NoError(t, err)
	}
	tests := []struct {
		name         string
		before       func(*Bank)
		activity     any
		in           MoveMoneyInput
		want         MoveMoneyResult
		wantType     string
		wantBalances map[string]int64
		// wantCompleted: the transfer ref-1 is completed afterwards.
		wantCompleted bool
	}{
		{
			name:         "withdraw",
			activity:     a.Withdraw,
			in:           step,
			want:         MoveMoneyResult{TransactionID: "tx-000001"},
			wantBalances: seedWith(map[string]int64{"alice": 99_700}),
		},
		{
			name:         "withdraw overdraft",
			activity:     a.Withdraw,
			in:           with(func(in *MoveMoneyInput) { in.FromAccount = "charlie" }),
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(nil),
		},
		{
			name:         "withdraw from unknown account",
			activity:     a.Withdraw,
			in:           with(func(in *MoveMoneyInput) { in.FromAccount = "zed" }),
			wantType:     ErrTypeAccountNotFound,
			wantBalances: seedWith(nil),
		},
		{
			name:         "withdraw for another transfer under the reference",
			before:       withdrawn,
			activity:     a.Withdraw,
			in:           with(func(in *MoveMoneyInput) { in.Amount = 301 }),
			wantType:     ErrTypeReferenceConflict,
			wantBalances: seedWith(map[string]int64{"alice": 99_700}),
		},
		{
			name:          "deposit, which completes the transfer",
			before:        withdrawn,
			activity:      a.Deposit,
			in:            step,
			want:          MoveMoneyResult{TransactionID: "tx-000002"},
			wantBalances:  seedWith(map[string]int64{"alice": 99_700, "bob": 50_300}),
			wantCompleted: true,
		},
		{
			name: "deposit to unknown account",
			before: func(b *Bank) {
				_, err := b.Withdraw(with(func(in *MoveMoneyInput) { in.ToAccount = "zed" }).step())
				require.NoError(t, err)
			},
			activity:     a.Deposit,
			in:           with(func(in *MoveMoneyInput) { in.ToAccount = "zed" }),
			wantType:     ErrTypeAccountNotFound,
			wantBalances: seedWith(map[string]int64{"alice": 99_700}),
		},
		{
			name:         "deposit without a withdrawal",
			activity:     a.Deposit,
			in:           step,
			wantType:     ErrTypeNoWithdrawal,
			wantBalances: seedWith(nil),
		},
		{
			name:          "deposit by another execution than the one that withdrew",
			before:        withdrawn,
			activity:      a.Deposit,
			in:            with(func(in *MoveMoneyInput) { in.Owner = "other" }),
			want:          MoveMoneyResult{TransactionID: "tx-000002"},
			wantBalances:  seedWith(map[string]int64{"alice": 99_700, "bob": 50_300}),
			wantCompleted: true,
		},
		{
			name:         "refund by another execution than the one that withdrew",
			before:       withdrawn,
			activity:     a.Refund,
			in:           with(func(in *MoveMoneyInput) { in.Owner = "other" }),
			want:         MoveMoneyResult{TransactionID: "tx-000002"},
			wantBalances: seedWith(nil),
		},
		{
			name: "deposit after a refund",
			before: func(b *Bank) {
				withdrawn(b)
				_, err := b.Refund(step.step())
				require.NoError(t, err)
			},
			activity:     a.Deposit,
			in:           step,
			wantType:     ErrTypeTransferCanceled,
			wantBalances: seedWith(nil),
		},
		{
			name:         "refund",
			before:       withdrawn,
			activity:     a.Refund,
			in:           step,
			want:         MoveMoneyResult{TransactionID: "tx-000002"},
			wantBalances: seedWith(nil),
		},
		{
			name: "refund of a deposit",
			before: func(b *Bank) {
				withdrawn(b)
				_, err := b.Deposit(step.step())
				require.NoError(t, err)
			},
			activity:     a.Refund,
			in:           step,
			want:         MoveMoneyResult{TransactionID: "tx-000004", ReversalID: "tx-000003"},
			wantBalances: seedWith(nil),
		},
		{
			name: "refund of a completed transfer",
			before: func(b *Bank) {
				withdrawn(b)
				_, err := b.Deposit(step.step())
				require.NoError(t, err)
				_, err = b.Complete(step.step())
				require.NoError(t, err)
			},
			activity:      a.Refund,
			in:            step,
			wantType:      ErrTypeTransferCompleted,
			wantBalances:  seedWith(map[string]int64{"alice": 99_700, "bob": 50_300}),
			wantCompleted: true,
		},
		{
			name:         "refund before the withdrawal",
			activity:     a.Refund,
			in:           step,
			want:         MoveMoneyResult{},
			wantBalances: seedWith(nil),
		},
		{
			name:         "withdraw by key",
			activity:     a.Withdraw,
			in:           MoveMoneyInput{Account: "alice", Amount: 300, Key: "k"},
			want:         MoveMoneyResult{TransactionID: "tx-000001"},
			wantBalances: seedWith(map[string]int64{"alice": 99_700}),
		},
		{
			name:         "withdraw by key, overdraft",
			activity:     a.Withdraw,
			in:           MoveMoneyInput{Account: "charlie", Amount: 1, Key: "k"},
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(nil),
		},
		{
			name:         "deposit by key to unknown account",
			activity:     a.Deposit,
			in:           MoveMoneyInput{Account: "zed", Amount: 300, Key: "k"},
			wantType:     ErrTypeAccountNotFound,
			wantBalances: seedWith(nil),
		},
		{
			name:         "refund by key",
			activity:     a.Refund,
			in:           MoveMoneyInput{Account: "bob", Amount: 300, Key: "k"},
			want:         MoveMoneyResult{TransactionID: "tx-000001"},
			wantBalances: seedWith(map[string]int64{"bob": 50_300}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			bank := NewBank(SeedAccounts)
			if tt.before != nil {
				tt.before(bank)
			}
			env.RegisterActivity(&Activities{Bank: bank})

			val, err := env.ExecuteActivity(tt.activity, tt.in)
			if tt.wantType != "" {
				appErr := requireAppError(t, err, tt.wantType)
				assert.True(t, appErr.NonRetryable(), "a refusal is not retried")
			} else {
				require.NoError(t, err)
				var got MoveMoneyResult
				require.NoError(t, val.Get(&got))
				assert.Equal(t, tt.want, got)
			}
			assert.Equal(t, tt.wantBalances, balances(t, bank))
			transfer, _ := bank.Transfer(step.ReferenceID)
			assert.Equal(t, tt.wantCompleted, transfer.Completed, "completed")
		})
	}
}

// With a delay (WORKER_BANK_DELAY) a step the ledger has made is held unreported, heartbeating so
// that a cancel reaches it. The cancel ends the hold, and the activity fails although the money
// moved: the outcome MoneyTransfer must undo by reference without knowing it.
func TestMoveActivitiesHoldAMadeStep(t *testing.T) {
	const delay = 300 * time.Millisecond
	tests := []struct {
		name   string
		cancel bool
	}{
		{name: "held for the delay"},
		{name: "held until a cancel", cancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bank, err := OpenBank("", SeedAccounts, delay)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
			var beats atomic.Int32
			env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) {
				if beats.Add(1) == 1 && tt.cancel {
					cancel()
				}
			})
			env.RegisterActivity(&Activities{Bank: bank})

			var a *Activities
			began := time.Now()
			_, err = env.ExecuteActivity(a.WithdrawForTransfer, TransferStepInput{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 300})
			held := time.Since(began)
			if tt.cancel {
				require.Error(t, err)
				assert.Less(t, held, delay, "the cancel ended the hold")
			} else {
				require.NoError(t, err)
				assert.GreaterOrEqual(t, held, delay)
			}
			assert.Positive(t, beats.Load(), "the hold heartbeats")
			assert.Equal(t, seedWith(map[string]int64{"alice": 99_700}), balances(t, bank), "the money moved either way")
		})
	}
}

func TestComposeGreeting(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	var a *Activities
	env.RegisterActivity(&Activities{})

	val, err := env.ExecuteActivity(a.ComposeGreeting, ComposeGreetingInput{Name: "Ada"})
	require.NoError(t, err)
	var got ComposeGreetingResult
	require.NoError(t, val.Get(&got))
	assert.Equal(t, ComposeGreetingResult{Greeting: "Hello, Ada!"}, got)
}

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

// The ledger's errors leave the activities as non-retryable application errors of the public
// types; success returns the ledger's transaction id.
// A step without a reference is one of an execution started before transfers were kept by
// reference, made once per key.
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
			name:         "deposit",
			before:       withdrawn,
			activity:     a.Deposit,
			in:           step,
			want:         MoveMoneyResult{TransactionID: "tx-000002"},
			wantBalances: seedWith(map[string]int64{"alice": 99_700, "bob": 50_300}),
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
			name:         "deposit by another execution than the one that withdrew",
			before:       withdrawn,
			activity:     a.Deposit,
			in:           with(func(in *MoveMoneyInput) { in.Owner = "other" }),
			want:         MoveMoneyResult{TransactionID: "tx-000002"},
			wantBalances: seedWith(map[string]int64{"alice": 99_700, "bob": 50_300}),
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
			_, err = env.ExecuteActivity(a.Withdraw, MoveMoneyInput{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 300, Owner: "o"})
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

package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

func TestGreeting(t *testing.T) {
	tests := []struct {
		name     string
		input    string // JSON, as the gateway passes it
		want     string // JSON result
		wantType string // application error type when the workflow fails
	}{
		{name: "greets by name", input: `{"name":"Ada"}`, want: `{"greeting":"Hello, Ada!"}`},
		{name: "empty name", input: `{"name":""}`, wantType: ErrTypeInvalidInput},
		{name: "missing name", input: `{}`, wantType: ErrTypeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			env.ExecuteWorkflow("Greeting", json.RawMessage(tt.input))
			require.True(t, env.IsWorkflowCompleted())

			if tt.wantType != "" {
				appErr := requireAppError(t, env.GetWorkflowError(), tt.wantType)
				assert.True(t, appErr.NonRetryable())
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var got json.RawMessage
			require.NoError(t, env.GetWorkflowResult(&got))
			assert.JSONEq(t, tt.want, string(got))
		})
	}
}

func TestEcho(t *testing.T) {
	// Each input is compact JSON, the form a JSON encoder hands the workflow.
	tests := []struct {
		name  string
		input string
	}{
		{name: "integer beyond 2^53", input: `9007199254740993`},
		{name: "integer beyond 2^64", input: `123456789012345678901234567890`},
		{name: "object with a large integer", input: `{"id":9007199254740993,"nested":{"amount":18446744073709551617}}`},
		{name: "array", input: `[1,"two",3.5e300,null,true,{"k":[]}]`},
		{name: "string", input: `"héllo, wörld ✓"`},
		{name: "decimal with trailing zeros", input: `{"price":1.2300}`},
		{name: "null", input: `null`},
		{name: "false", input: `false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			env.ExecuteWorkflow("Echo", json.RawMessage(tt.input))
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())

			var got json.RawMessage
			require.NoError(t, env.GetWorkflowResult(&got))
			assert.Equal(t, tt.input, string(got), "byte for byte")
		})
	}
}

// The SDK's JSON payload converter re-encodes a json.RawMessage with json.Marshal, which drops
// insignificant whitespace and escapes <, >, &, U+2028 and U+2029: for such input only the value
// is kept, every digit of it, not its spelling.
func TestEchoKeepsValueOfNonCompactJSON(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{name: "whitespace", input: "{ \"id\" : 9007199254740993,\n \"tags\": [ 1, 2 ] }"},
		{name: "html characters", input: `{"q":"a<b && c>d","n":18446744073709551617}`},
		{name: "line separator", input: "[\"\u2028\", 123456789012345678901234567890]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			env.ExecuteWorkflow("Echo", json.RawMessage(tt.input))
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())

			var got json.RawMessage
			require.NoError(t, env.GetWorkflowResult(&got))
			assert.Equal(t, jsonValue(t, tt.input), jsonValue(t, string(got)))
		})
	}
}

// jsonValue decodes JSON keeping numbers as their text, so that values differing only beyond
// float64 precision compare unequal (assert.JSONEq would call them equal).
func jsonValue(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "decode %q", s)
	return v
}

func TestSleep(t *testing.T) {
	tests := []struct {
		name     string
		seconds  int64
		wantType string
	}{
		{name: "zero", seconds: 0},
		{name: "one second", seconds: 1},
		{name: "a day, skipped by the test clock", seconds: 86_400},
		{name: "negative", seconds: -1, wantType: ErrTypeInvalidInput},
		{name: "longer than a duration holds", seconds: MaxSleepSeconds + 1, wantType: ErrTypeInvalidInput},
		{name: "the largest int64", seconds: math.MaxInt64, wantType: ErrTypeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			start := env.Now()
			env.ExecuteWorkflow("Sleep", SleepInput{Seconds: tt.seconds})
			require.True(t, env.IsWorkflowCompleted())
			slept := env.Now().Sub(start)

			if tt.wantType != "" {
				appErr := requireAppError(t, env.GetWorkflowError(), tt.wantType)
				assert.True(t, appErr.NonRetryable())
				assert.Zero(t, slept, "an invalid input must not start a timer")
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var got SleepResult
			require.NoError(t, env.GetWorkflowResult(&got))
			assert.Equal(t, SleepResult{SleptSeconds: tt.seconds}, got)
			assert.GreaterOrEqual(t, slept, time.Duration(tt.seconds)*time.Second, "workflow clock advanced by the timer")
		})
	}
}

func TestMoneyTransfer(t *testing.T) {
	tests := []struct {
		name         string
		in           MoneyTransferInput
		wantType     string           // application error type when the workflow fails
		wantBalances map[string]int64 // every seed account afterwards
	}{
		{
			name:         "moves the amount",
			in:           MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 2_500, ReferenceID: "ref-1"},
			wantBalances: seedWith(map[string]int64{"alice": 97_500, "bob": 52_500}),
		},
		{
			name:         "whole balance",
			in:           MoneyTransferInput{FromAccount: "bob", ToAccount: "charlie", Amount: 50_000, ReferenceID: "ref-2"},
			wantBalances: seedWith(map[string]int64{"bob": 0, "charlie": 50_000}),
		},
		{
			name:         "overdraft",
			in:           MoneyTransferInput{FromAccount: "charlie", ToAccount: "alice", Amount: 1, ReferenceID: "ref-3"},
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(nil),
		},
		{
			name:         "overdraft by one cent",
			in:           MoneyTransferInput{FromAccount: "bob", ToAccount: "alice", Amount: 50_001, ReferenceID: "ref-5"},
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(nil),
		},
		{
			name:         "unknown source account",
			in:           MoneyTransferInput{FromAccount: "zed", ToAccount: "alice", Amount: 100, ReferenceID: "ref-6"},
			wantType:     ErrTypeAccountNotFound,
			wantBalances: seedWith(nil),
		},
		{
			name:         "missing reference",
			in:           MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 100},
			wantType:     ErrTypeInvalidInput,
			wantBalances: seedWith(nil),
		},
		{
			name:         "unknown target account refunds the withdrawal",
			in:           MoneyTransferInput{FromAccount: "alice", ToAccount: "zed", Amount: 500, ReferenceID: "ref-4"},
			wantType:     ErrTypeAccountNotFound,
			wantBalances: seedWith(nil),
		},
		{
			name:         "same account",
			in:           MoneyTransferInput{FromAccount: "alice", ToAccount: "alice", Amount: 100},
			wantType:     ErrTypeInvalidInput,
			wantBalances: seedWith(nil),
		},
		{
			name:         "zero amount",
			in:           MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 0},
			wantType:     ErrTypeInvalidInput,
			wantBalances: seedWith(nil),
		},
		{
			name:         "negative amount",
			in:           MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: -100},
			wantType:     ErrTypeInvalidInput,
			wantBalances: seedWith(nil),
		},
		{
			name:         "missing source account",
			in:           MoneyTransferInput{ToAccount: "bob", Amount: 100},
			wantType:     ErrTypeInvalidInput,
			wantBalances: seedWith(nil),
		},
		{
			name:         "missing target account",
			in:           MoneyTransferInput{FromAccount: "alice", Amount: 100},
			wantType:     ErrTypeInvalidInput,
			wantBalances: seedWith(nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, bank := newEnv(t)
			env.ExecuteWorkflow("MoneyTransfer", tt.in)
			require.True(t, env.IsWorkflowCompleted())

			if tt.wantType != "" {
				appErr := requireAppError(t, env.GetWorkflowError(), tt.wantType)
				assert.True(t, appErr.NonRetryable(), "a business failure must not be retried")
			} else {
				require.NoError(t, env.GetWorkflowError())
				var got MoneyTransferResult
				require.NoError(t, env.GetWorkflowResult(&got))
				assert.Equal(t, tt.in.ReferenceID, got.ReferenceID)
				assert.NotEmpty(t, got.WithdrawalID)
				assert.NotEmpty(t, got.DepositID)
				assert.NotEqual(t, got.WithdrawalID, got.DepositID)
			}
			assert.Equal(t, tt.wantBalances, balances(t, bank))
		})
	}
}

// The deposit's business error reaches the caller with its own type, after the withdrawal has been
// refunded; the activities are mocked so the test sees exactly which ran, with which input.
func TestMoneyTransferRefundsWhenDepositFails(t *testing.T) {
	env, bank := newEnv(t)
	var a *Activities
	var mu sync.Mutex
	steps := map[string]MoveMoneyInput{} // activity -> its input
	record := func(activity string) func(mock.Arguments) {
		return func(args mock.Arguments) {
			mu.Lock()
			defer mu.Unlock()
			steps[activity] = args.Get(1).(MoveMoneyInput)
		}
	}
	transfer := mock.MatchedBy(func(m MoveMoneyInput) bool {
		return m.FromAccount == "alice" && m.ToAccount == "bob" && m.Amount == 700 && m.ReferenceID == "ref-refund"
	})

	env.OnActivity(a.Withdraw, mock.Anything, transfer).Run(record("withdraw")).
		Return(MoveMoneyResult{TransactionID: "tx-withdraw"}, nil).Once()
	env.OnActivity(a.Deposit, mock.Anything, transfer).Run(record("deposit")).
		Return(MoveMoneyResult{}, temporal.NewNonRetryableApplicationError(
			`account "bob": account not found`, ErrTypeAccountNotFound, nil)).Once()
	env.OnActivity(a.Refund, mock.Anything, transfer).Run(record("refund")).
		Return(MoveMoneyResult{TransactionID: "tx-refund"}, nil).Once()

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 700, ReferenceID: "ref-refund"})
	require.True(t, env.IsWorkflowCompleted())

	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeAccountNotFound)
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Error(), "tx-withdraw", "the failure names the refunded withdrawal")
	assert.Contains(t, appErr.Error(), "tx-refund", "the failure names the refund")
	env.AssertExpectations(t)
	env.AssertActivityNumberOfCalls(t, "Deposit", 1)
	env.AssertActivityNumberOfCalls(t, "Refund", 1)

	// The three steps name one transfer, by its reference, on behalf of one execution.
	mu.Lock()
	defer mu.Unlock()
	assert.NotEmpty(t, steps["withdraw"].Owner)
	assert.Equal(t, steps["withdraw"], steps["deposit"])
	assert.Equal(t, steps["withdraw"], steps["refund"])

	assert.Equal(t, seedWith(nil), balances(t, bank), "mocked activities leave the ledger alone")
}

func TestMoneyTransferFailsWhenRefundFails(t *testing.T) {
	env, _ := newEnv(t)
	var a *Activities
	env.OnActivity(a.Withdraw, mock.Anything, mock.Anything).Return(MoveMoneyResult{TransactionID: "tx-withdraw"}, nil).Once()
	env.OnActivity(a.Deposit, mock.Anything, mock.Anything).Return(MoveMoneyResult{},
		temporal.NewNonRetryableApplicationError("no such account", ErrTypeAccountNotFound, nil)).Once()
	env.OnActivity(a.Refund, mock.Anything, mock.Anything).Return(MoveMoneyResult{},
		temporal.NewNonRetryableApplicationError("ledger closed", "LedgerClosedError", nil)).Once()

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1, ReferenceID: "ref-1"})
	require.True(t, env.IsWorkflowCompleted())

	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeRefundFailed)
	assert.True(t, appErr.NonRetryable())
	env.AssertExpectations(t)
}

// A deposit whose response is lost is retried with the same key, and the ledger applies it once.
func TestMoneyTransferRetriedDepositMovesMoneyOnce(t *testing.T) {
	env, bank := newEnv(t)
	real := &Activities{Bank: bank}
	var a *Activities
	var calls atomic.Int32
	env.OnActivity(a.Deposit, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
			res, err := real.Deposit(ctx, in)
			if calls.Add(1) == 1 {
				return MoveMoneyResult{}, errors.New("connection reset after the deposit was applied")
			}
			return res, err
		})

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-retry"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	var got MoneyTransferResult
	require.NoError(t, env.GetWorkflowResult(&got))
	assert.Equal(t, "ref-retry", got.ReferenceID)
	assert.NotEmpty(t, got.DepositID)
	assert.Equal(t, int32(2), calls.Load(), "the deposit was retried once")
	assert.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}), balances(t, bank))
}

// A cancel that comes while a step of the transfer runs: the test environment answers the step
// canceled at once, as the server does when the activity reports the cancel, whether or not the
// step reached the ledger. Either way the transfer is undone by its reference and the execution
// ends canceled: the money the step moved is given back, and a step arriving after the cancel
// moves nothing.
func TestMoneyTransferCanceled(t *testing.T) {
	in := MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-cancel"}
	tests := []struct {
		name   string
		during string // the step running when the cancel comes
		made   bool   // the ledger made the step before the cancel
	}{
		{name: "during the withdrawal, which had moved the money", during: "Withdraw", made: true},
		{name: "during the withdrawal, which arrives after the cancel", during: "Withdraw"},
		{name: "during the deposit, which had moved the money", during: "Deposit", made: true},
		{name: "during the deposit, which arrives after the cancel", during: "Deposit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, bank := newEnv(t)
			ledger := &Activities{Bank: bank}
			run := map[string]func(context.Context, MoveMoneyInput) (MoveMoneyResult, error){
				"Withdraw": ledger.Withdraw, "Deposit": ledger.Deposit}[tt.during]
			var step MoveMoneyInput
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
				if info.ActivityType.Name == tt.during {
					assert.NoError(t, args.Get(&step))
				}
			})
			// The step does not answer before the cancel; when made, the ledger makes it meanwhile.
			env.OnActivity(tt.during, mock.Anything, mock.Anything).After(time.Hour).Return(run)
			if tt.made {
				env.RegisterDelayedCallback(func() {
					_, err := run(context.Background(), step)
					assert.NoError(t, err)
				}, time.Second)
			}
			env.RegisterDelayedCallback(env.CancelWorkflow, 2*time.Second)

			env.ExecuteWorkflow("MoneyTransfer", in)
			require.True(t, env.IsWorkflowCompleted())
			var canceled *temporal.CanceledError
			require.ErrorAs(t, env.GetWorkflowError(), &canceled)
			assert.Equal(t, seedWith(nil), balances(t, bank), "every cent back where it was")
			transfer, ok := bank.Transfer(in.ReferenceID)
			require.True(t, ok)
			assert.True(t, transfer.Voided)

			_, err := run(context.Background(), step)
			requireAppError(t, err, ErrTypeTransferCanceled)
			assert.Equal(t, seedWith(nil), balances(t, bank), "a step arriving after the cancel moves nothing")
		})
	}
}

// A deposit spent before the cancel could take it back: the transfer stands, the execution fails
// with RefundFailedError, and no money is lost.
func TestMoneyTransferCanceledAfterTheDepositWasSpent(t *testing.T) {
	env, bank := newEnv(t)
	ledger := &Activities{Bank: bank}
	var a *Activities
	env.OnActivity(a.Deposit, mock.Anything, mock.Anything).After(time.Hour).Return(ledger.Deposit)
	var step MoveMoneyInput
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if info.ActivityType.Name == "Deposit" {
			assert.NoError(t, args.Get(&step))
		}
	})
	env.RegisterDelayedCallback(func() {
		_, err := ledger.Deposit(context.Background(), step)
		assert.NoError(t, err)
		// bob spends everything he has, the deposit with it.
		_, err = bank.Move("spend/out", "bob", -51_000)
		assert.NoError(t, err)
		_, err = bank.Move("spend/in", "charlie", 51_000)
		assert.NoError(t, err)
	}, time.Second)
	env.RegisterDelayedCallback(env.CancelWorkflow, 2*time.Second)

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-spent"})
	require.True(t, env.IsWorkflowCompleted())
	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeRefundFailed)
	assert.True(t, appErr.NonRetryable())
	assert.ErrorContains(t, appErr, "insufficient funds")
	assert.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 0, "charlie": 51_000}), balances(t, bank),
		"the transfer stands, nothing undone halfway")
}

// One reference, asked for again: by another execution, by a later run of the same one. Every
// execution with the reference is the same transfer: the one under test makes whatever step the
// transfer is at, whoever made the steps before it, and nothing waits for another execution, which
// may have timed out or been terminated halfway (the ledger's record is all that is left of it).
// The test's bank calls stand for that other execution.
func TestMoneyTransferSameReference(t *testing.T) {
	transfer := MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-1"}
	step := TransferStep{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 1_000}
	withdrawn := func(t *testing.T, bank *Bank) {
		_, err := bank.Withdraw(step)
		require.NoError(t, err)
	}
	tests := []struct {
		name   string
		before func(t *testing.T, bank *Bank) // what the ledger holds of the reference
		in     MoneyTransferInput
		// cancelDuring is the step of the execution under test that is still running, its
		// outcome not reported, when the execution is canceled; none when empty.
		cancelDuring string
		after        func(t *testing.T, bank *Bank) // another execution's step, after this one closed
		want         MoneyTransferResult
		wantType     string
		wantCanceled bool
		wantBalances map[string]int64
	}{
		{
			name: "completed by another execution: its result",
			before: func(t *testing.T, bank *Bank) {
				withdrawn(t, bank)
				_, err := bank.Deposit(step)
				require.NoError(t, err)
			},
			in:           transfer,
			want:         MoneyTransferResult{ReferenceID: "ref-1", WithdrawalID: "tx-000001", DepositID: "tx-000002"},
			wantBalances: seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}),
		},
		{
			name: "refused to another execution: its refusal, although charlie could pay now",
			before: func(t *testing.T, bank *Bank) {
				_, err := bank.Withdraw(TransferStep{ReferenceID: "ref-1", FromAccount: "charlie", ToAccount: "bob", Amount: 1_000})
				require.ErrorIs(t, err, ErrInsufficientFunds)
				_, err = bank.Move("salary", "charlie", 5_000)
				require.NoError(t, err)
			},
			in:           MoneyTransferInput{FromAccount: "charlie", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-1"},
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(map[string]int64{"charlie": 5_000}),
		},
		{
			// The other execution timed out (executionTimeout) or was terminated after its
			// withdrawal, or it is still running; or it is an earlier run of this one, before a reset.
			name:   "withdrawn by another execution: this one completes the transfer, the other is answered the same",
			before: withdrawn,
			in:     transfer,
			after: func(t *testing.T, bank *Bank) {
				tx, err := bank.Deposit(step)
				assert.NoError(t, err)
				assert.Equal(t, "tx-000002", tx, "a deposit of the other execution, still running, answers this one's")
			},
			want:         MoneyTransferResult{ReferenceID: "ref-1", WithdrawalID: "tx-000001", DepositID: "tx-000002"},
			wantBalances: seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}),
		},
		{
			name:         "withdrawn by another execution, this one canceled: the money goes back",
			before:       withdrawn,
			in:           transfer,
			cancelDuring: "Deposit",
			after: func(t *testing.T, bank *Bank) {
				_, err := bank.Deposit(step)
				assert.ErrorIs(t, err, ErrTransferCanceled, "a deposit of the other execution, still running, moves nothing")
			},
			wantCanceled: true,
			wantBalances: seedWith(nil),
		},
		{
			name: "canceled by another execution",
			before: func(t *testing.T, bank *Bank) {
				withdrawn(t, bank)
				_, err := bank.Refund(step)
				require.NoError(t, err)
			},
			in:           transfer,
			wantType:     ErrTypeTransferCanceled,
			wantBalances: seedWith(nil),
		},
		{
			name:         "another transfer under the reference",
			before:       withdrawn,
			in:           MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 999, ReferenceID: "ref-1"},
			wantType:     ErrTypeReferenceConflict,
			wantBalances: seedWith(map[string]int64{"alice": 99_000}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, bank := newEnv(t)
			tt.before(t, bank)
			// An execution waiting for another, forever, fails here instead of hanging the test.
			env.SetWorkflowRunTimeout(time.Hour)
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "second"})
			if tt.cancelDuring != "" {
				env.OnActivity(tt.cancelDuring, mock.Anything, mock.Anything).After(time.Hour).Return(MoveMoneyResult{}, nil)
				env.RegisterDelayedCallback(env.CancelWorkflow, 2*time.Second)
			}
			env.ExecuteWorkflow("MoneyTransfer", tt.in)
			require.True(t, env.IsWorkflowCompleted())

			switch {
			case tt.wantCanceled:
				var canceled *temporal.CanceledError
				require.ErrorAs(t, env.GetWorkflowError(), &canceled)
			case tt.wantType != "":
				appErr := requireAppError(t, env.GetWorkflowError(), tt.wantType)
				assert.True(t, appErr.NonRetryable())
			default:
				require.NoError(t, env.GetWorkflowError())
				var got MoneyTransferResult
				require.NoError(t, env.GetWorkflowResult(&got))
				assert.Equal(t, tt.want, got)
			}
			if tt.after != nil {
				tt.after(t, bank)
			}
			assert.Equal(t, tt.wantBalances, balances(t, bank))
		})
	}
}

// An execution started before transfers were kept by reference carries on as it began: every
// movement keyed by its run, a reference not needed.
func TestMoneyTransferStartedBeforeReferences(t *testing.T) {
	env, bank := newEnv(t)
	env.OnGetVersion(transferByReference, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 100})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	var got MoneyTransferResult
	require.NoError(t, env.GetWorkflowResult(&got))
	assert.Equal(t, MoneyTransferResult{WithdrawalID: "tx-000001", DepositID: "tx-000002"}, got)
	assert.Equal(t, seedWith(map[string]int64{"alice": 99_900, "bob": 50_100}), balances(t, bank))
	_, ok := bank.Transfer("")
	assert.False(t, ok, "no transfer record, only movements by key")
}

func TestCronCounter(t *testing.T) {
	tests := []struct {
		name string
		last *CronCounterResult // nil: the first run
		want int64
	}{
		{name: "first run", want: 1},
		{name: "after a completed run", last: &CronCounterResult{Count: 41}, want: 42},
		{name: "after a run that counted zero", last: &CronCounterResult{}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			if tt.last != nil {
				env.SetLastCompletionResult(*tt.last)
			}
			env.ExecuteWorkflow("CronCounter", CronCounterInput{})
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())

			var got CronCounterResult
			require.NoError(t, env.GetWorkflowResult(&got))
			assert.Equal(t, CronCounterResult{Count: tt.want}, got)
		})
	}
}

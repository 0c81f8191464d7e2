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
	steps := map[string]TransferStepInput{} // activity -> its input
	record := func(activity string) func(mock.Arguments) {
		return func(args mock.Arguments) {
			mu.Lock()
			defer mu.Unlock()
			steps[activity] = args.Get(1).(TransferStepInput)
		}
	}
	transfer := mock.MatchedBy(func(m TransferStepInput) bool {
		return m == TransferStepInput{ReferenceID: "ref-refund", FromAccount: "alice", ToAccount: "bob", Amount: 700}
	})

	env.OnActivity(a.WithdrawForTransfer, mock.Anything, transfer).Run(record("withdraw")).
		Return(TransferStepResult{WithdrawalID: "tx-withdraw"}, nil).Once()
	env.OnActivity(a.DepositForTransfer, mock.Anything, transfer).Run(record("deposit")).
		Return(TransferStepResult{}, temporal.NewNonRetryableApplicationError(
			`account "bob": account not found`, ErrTypeAccountNotFound, nil)).Once()
	env.OnActivity(a.UndoTransfer, mock.Anything, transfer).Run(record("undo")).
		Return(TransferStepResult{WithdrawalID: "tx-withdraw", RefundID: "tx-refund", Undone: true}, nil).Once()

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 700, ReferenceID: "ref-refund"})
	require.True(t, env.IsWorkflowCompleted())

	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeAccountNotFound)
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Error(), "tx-withdraw", "the failure names the refunded withdrawal")
	assert.Contains(t, appErr.Error(), "tx-refund", "the failure names the refund")
	env.AssertExpectations(t)
	env.AssertActivityNumberOfCalls(t, "DepositForTransfer", 1)
	env.AssertActivityNumberOfCalls(t, "UndoTransfer", 1)
	env.AssertActivityNumberOfCalls(t, "CompleteTransfer", 0)

	// The three steps name one transfer, by its reference.
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, steps, 3)
	assert.Equal(t, steps["withdraw"], steps["deposit"])
	assert.Equal(t, steps["withdraw"], steps["undo"])

	assert.Equal(t, seedWith(nil), balances(t, bank), "mocked activities leave the ledger alone")
}

func TestMoneyTransferFailsWhenRefundFails(t *testing.T) {
	env, _ := newEnv(t)
	var a *Activities
	env.OnActivity(a.WithdrawForTransfer, mock.Anything, mock.Anything).Return(TransferStepResult{WithdrawalID: "tx-withdraw"}, nil).Once()
	env.OnActivity(a.DepositForTransfer, mock.Anything, mock.Anything).Return(TransferStepResult{},
		temporal.NewNonRetryableApplicationError("no such account", ErrTypeAccountNotFound, nil)).Once()
	env.OnActivity(a.UndoTransfer, mock.Anything, mock.Anything).Return(TransferStepResult{},
		temporal.NewNonRetryableApplicationError("ledger closed", "LedgerClosedError", nil)).Once()

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1, ReferenceID: "ref-1"})
	require.True(t, env.IsWorkflowCompleted())

	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeRefundFailed)
	assert.True(t, appErr.NonRetryable())
	env.AssertExpectations(t)
}

// A deposit whose response is lost is retried with the same reference, and the ledger applies it
// once.
func TestMoneyTransferRetriedDepositMovesMoneyOnce(t *testing.T) {
	env, bank := newEnv(t)
	real := &Activities{Bank: bank}
	var a *Activities
	var calls atomic.Int32
	env.OnActivity(a.DepositForTransfer, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in TransferStepInput) (TransferStepResult, error) {
			res, err := real.DepositForTransfer(ctx, in)
			if calls.Add(1) == 1 {
				return TransferStepResult{}, errors.New("connection reset after the deposit was applied")
			}
			return res, err
		})

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-retry"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	var got MoneyTransferResult
	require.NoError(t, env.GetWorkflowResult(&got))
	assert.Equal(t, MoneyTransferResult{ReferenceID: "ref-retry", WithdrawalID: "tx-000001", DepositID: "tx-000002"}, got)
	assert.Equal(t, int32(2), calls.Load(), "the deposit was retried once")
	assert.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}), balances(t, bank))
}

// The steps of a transfer run under activity names of their own, none of which a worker from
// before them hosts (Withdraw, Deposit, Refund): such a worker, handed one, fails it as not
// registered, and Temporal retries it until a worker that knows it runs it. Under the old names
// it read the step's input as a per-run movement, without an account.
func TestMoneyTransferStepsHaveNamesOfTheirOwn(t *testing.T) {
	tests := []struct {
		name      string
		in        MoneyTransferInput
		wantSteps []string
	}{
		{
			name:      "completed",
			in:        MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 100, ReferenceID: "ref-1"},
			wantSteps: []string{"WithdrawForTransfer", "DepositForTransfer", "CompleteTransfer"},
		},
		{
			name:      "deposit refused, withdrawal refunded",
			in:        MoneyTransferInput{FromAccount: "alice", ToAccount: "zed", Amount: 100, ReferenceID: "ref-1"},
			wantSteps: []string{"WithdrawForTransfer", "DepositForTransfer", "UndoTransfer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			var steps []string
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				steps = append(steps, info.ActivityType.Name)
			})
			env.ExecuteWorkflow("MoneyTransfer", tt.in)
			require.True(t, env.IsWorkflowCompleted())
			assert.Equal(t, tt.wantSteps, steps)
			for _, old := range []string{"Withdraw", "Deposit", "Refund"} {
				assert.NotContains(t, steps, old, "a name that an older worker hosts with another input")
			}
		})
	}
}

// A cancel that comes while a step of the transfer runs: the test environment answers the step
// canceled at once, as the server does when the activity reports the cancel, whether or not the
// step reached the ledger. Before the transfer is completed, it is undone by its reference and the
// execution ends canceled: the money the step moved is given back, and a step arriving after the
// cancel moves nothing. A completion that reached the ledger is final: the execution completes.
func TestMoneyTransferCanceled(t *testing.T) {
	in := MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-cancel"}
	tests := []struct {
		name          string
		during        string // the step running when the cancel comes
		made          bool   // the ledger made the step before the cancel
		wantCompleted bool
	}{
		{name: "during the withdrawal, which had moved the money", during: "WithdrawForTransfer", made: true},
		{name: "during the withdrawal, which arrives after the cancel", during: "WithdrawForTransfer"},
		{name: "during the deposit, which had moved the money", during: "DepositForTransfer", made: true},
		{name: "during the deposit, which arrives after the cancel", during: "DepositForTransfer"},
		{name: "during the completion, which arrives after the cancel", during: "CompleteTransfer"},
		{name: "during the completion, which had completed the transfer: too late", during: "CompleteTransfer", made: true, wantCompleted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, bank := newEnv(t)
			ledger := &Activities{Bank: bank}
			run := map[string]func(context.Context, TransferStepInput) (TransferStepResult, error){
				"WithdrawForTransfer": ledger.WithdrawForTransfer, "DepositForTransfer": ledger.DepositForTransfer,
				"CompleteTransfer": ledger.CompleteTransfer}[tt.during]
			var step TransferStepInput
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
			transfer, ok := bank.Transfer(in.ReferenceID)
			require.True(t, ok)
			if tt.wantCompleted {
				require.NoError(t, env.GetWorkflowError())
				var got MoneyTransferResult
				require.NoError(t, env.GetWorkflowResult(&got))
				assert.Equal(t, MoneyTransferResult{ReferenceID: in.ReferenceID, WithdrawalID: "tx-000001", DepositID: "tx-000002"}, got)
				assert.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}), balances(t, bank), "the transfer stands")
				assert.True(t, transfer.Completed)
				return
			}
			var canceled *temporal.CanceledError
			require.ErrorAs(t, env.GetWorkflowError(), &canceled)
			assert.Equal(t, seedWith(nil), balances(t, bank), "every cent back where it was")
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
	env.OnActivity(a.DepositForTransfer, mock.Anything, mock.Anything).After(time.Hour).Return(ledger.DepositForTransfer)
	var step TransferStepInput
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if info.ActivityType.Name == "DepositForTransfer" {
			assert.NoError(t, args.Get(&step))
		}
	})
	env.RegisterDelayedCallback(func() {
		_, err := ledger.DepositForTransfer(context.Background(), step)
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
	transfer, _ := bank.Transfer("ref-spent")
	assert.True(t, transfer.Completed, "it stands for good: no later execution undoes it")
}

// One reference, asked for again: by another execution, by a later run of the same one. Every
// execution with the reference is the same transfer: the one under test makes whatever step the
// transfer is at, whoever made the steps before it, and nothing waits for another execution, which
// may have timed out or been terminated halfway (the ledger's record is all that is left of it),
// or may still be running. The test's bank calls stand for that other execution. Whatever the
// order, the execution under test ends with the outcome the ledger holds.
func TestMoneyTransferSameReference(t *testing.T) {
	transfer := MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-1"}
	step := TransferStep{ReferenceID: "ref-1", FromAccount: "alice", ToAccount: "bob", Amount: 1_000}
	withdrawn := func(t *testing.T, bank *Bank) {
		_, err := bank.Withdraw(step)
		require.NoError(t, err)
	}
	completed := func(t *testing.T, bank *Bank) {
		_, err := bank.Deposit(step)
		assert.NoError(t, err)
		_, err = bank.Complete(step)
		assert.NoError(t, err)
	}
	tests := []struct {
		name   string
		before func(t *testing.T, bank *Bank) // what the ledger holds of the reference
		in     MoneyTransferInput
		// held is the step of the execution under test that runs for a minute before it reaches
		// the ledger; meanwhile another execution acts at 1s, and a cancel comes at 2s.
		held      string
		meanwhile func(t *testing.T, bank *Bank)
		cancel    bool
		after     func(t *testing.T, bank *Bank) // another execution's step, after this one closed
		want      MoneyTransferResult
		wantType  string
		// wantCanceled: the execution ends canceled, which it does only with the transfer undone.
		wantCanceled bool
		wantBalances map[string]int64
	}{
		{
			name: "completed by another execution: its result",
			before: func(t *testing.T, bank *Bank) {
				withdrawn(t, bank)
				completed(t, bank)
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
				deposited, err := bank.Deposit(step)
				assert.NoError(t, err)
				assert.Equal(t, "tx-000002", deposited.Deposit, "a deposit of the other execution, still running, answers this one's")
				_, err = bank.Refund(step)
				assert.NoError(t, err)
				assert.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}), balances(t, bank),
					"a refund of the other execution, canceled now, undoes nothing")
			},
			want:         MoneyTransferResult{ReferenceID: "ref-1", WithdrawalID: "tx-000001", DepositID: "tx-000002"},
			wantBalances: seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}),
		},
		{
			name:   "withdrawn by another execution, this one canceled: the money goes back",
			before: withdrawn,
			in:     transfer,
			held:   "DepositForTransfer",
			cancel: true,
			after: func(t *testing.T, bank *Bank) {
				_, err := bank.Deposit(step)
				assert.ErrorIs(t, err, ErrTransferCanceled, "a deposit of the other execution, still running, moves nothing")
			},
			wantCanceled: true,
			wantBalances: seedWith(nil),
		},
		{
			// This one must not claim a cancel: the other reported the transfer made.
			name:         "completed by another execution while this one is canceled: this one completes with it",
			before:       withdrawn,
			in:           transfer,
			held:         "DepositForTransfer",
			meanwhile:    completed,
			cancel:       true,
			want:         MoneyTransferResult{ReferenceID: "ref-1", WithdrawalID: "tx-000001", DepositID: "tx-000002"},
			wantBalances: seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}),
		},
		{
			name:   "undone by another execution while this one runs: this one fails with TransferCanceledError",
			before: withdrawn,
			in:     transfer,
			held:   "DepositForTransfer",
			meanwhile: func(t *testing.T, bank *Bank) {
				_, err := bank.Refund(step)
				assert.NoError(t, err)
			},
			wantType:     ErrTypeTransferCanceled,
			wantBalances: seedWith(nil),
		},
		{
			name:   "undone by another execution after this one's deposit: this one fails with TransferCanceledError",
			before: withdrawn,
			in:     transfer,
			held:   "CompleteTransfer",
			meanwhile: func(t *testing.T, bank *Bank) {
				_, err := bank.Refund(step)
				assert.NoError(t, err)
			},
			wantType:     ErrTypeTransferCanceled,
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
			if tt.held != "" {
				ledger := &Activities{Bank: bank}
				run := map[string]func(context.Context, TransferStepInput) (TransferStepResult, error){
					"DepositForTransfer": ledger.DepositForTransfer, "CompleteTransfer": ledger.CompleteTransfer}[tt.held]
				require.NotNil(t, run, tt.held)
				env.OnActivity(tt.held, mock.Anything, mock.Anything).After(time.Minute).Return(run)
			}
			if tt.meanwhile != nil {
				env.RegisterDelayedCallback(func() { tt.meanwhile(t, bank) }, time.Second)
			}
			if tt.cancel {
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
			assert.Equal(t, tt.wantBalances, balances(t, bank))
			if tt.after != nil {
				tt.after(t, bank)
			}
		})
	}
}

// An execution started before transfers were kept by reference carries on as it began: every
// movement keyed by its run, a reference not needed.
func TestMoneyTransferStartedBeforeReferences(t *testing.T) {
	env, bank := newEnv(t)
	env.OnGetVersion(transferByReference, workflow.DefaultVersion, stepsOfTheirOwn).Return(workflow.DefaultVersion)
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

// An execution started when the steps of a transfer went under the per-run steps' names carries
// on as it began, under those names, on today's ledger: its deposit completes the transfer, since
// it reports the transfer made then, so a refund undoes it no more, and an execution of this kind
// canceled after that fails with RefundFailedError, the transfer standing, rather than claim a
// cancel.
func TestMoneyTransferStartedWithStepsUnderSharedNames(t *testing.T) {
	in := MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1_000, ReferenceID: "ref-1"}
	tests := []struct {
		name      string
		cancel    bool // while the deposit, made, is unreported
		wantSteps []string
		wantType  string
	}{
		{name: "completed", wantSteps: []string{"Withdraw", "Deposit"}},
		{name: "canceled after its deposit", cancel: true, wantSteps: []string{"Withdraw", "Deposit", "Refund"}, wantType: ErrTypeRefundFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, bank := newEnv(t)
			env.OnGetVersion(transferByReference, workflow.DefaultVersion, stepsOfTheirOwn).Return(stepsUnderSharedNames)
			var steps []string
			var deposit MoveMoneyInput
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
				steps = append(steps, info.ActivityType.Name)
				if info.ActivityType.Name == "Deposit" {
					assert.NoError(t, args.Get(&deposit))
				}
			})
			if tt.cancel {
				ledger := &Activities{Bank: bank}
				env.OnActivity("Deposit", mock.Anything, mock.Anything).After(time.Hour).Return(ledger.Deposit)
				env.RegisterDelayedCallback(func() {
					_, err := ledger.Deposit(context.Background(), deposit)
					assert.NoError(t, err)
				}, time.Second)
				env.RegisterDelayedCallback(env.CancelWorkflow, 2*time.Second)
			}
			env.ExecuteWorkflow("MoneyTransfer", in)
			require.True(t, env.IsWorkflowCompleted())

			assert.Equal(t, tt.wantSteps, steps)
			if tt.wantType != "" {
				appErr := requireAppError(t, env.GetWorkflowError(), tt.wantType)
				assert.ErrorContains(t, appErr, ErrTransferCompleted.Error())
			} else {
				require.NoError(t, env.GetWorkflowError())
				var got MoneyTransferResult
				require.NoError(t, env.GetWorkflowResult(&got))
				assert.Equal(t, MoneyTransferResult{ReferenceID: "ref-1", WithdrawalID: "tx-000001", DepositID: "tx-000002"}, got)
			}
			assert.Equal(t, seedWith(map[string]int64{"alice": 99_000, "bob": 51_000}), balances(t, bank))
			transfer, _ := bank.Transfer("ref-1")
			assert.True(t, transfer.Completed)
		})
	}
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

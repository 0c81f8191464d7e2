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
	"go.temporal.io/sdk/temporal"
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
			in:           MoneyTransferInput{FromAccount: "bob", ToAccount: "alice", Amount: 50_001},
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(nil),
		},
		{
			name:         "unknown source account",
			in:           MoneyTransferInput{FromAccount: "zed", ToAccount: "alice", Amount: 100},
			wantType:     ErrTypeAccountNotFound,
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
	keys := map[string]string{} // activity -> idempotency key
	recordKey := func(activity string) func(mock.Arguments) {
		return func(args mock.Arguments) {
			mu.Lock()
			defer mu.Unlock()
			keys[activity] = args.Get(1).(MoveMoneyInput).Key
		}
	}
	input := func(account string) any {
		return mock.MatchedBy(func(m MoveMoneyInput) bool { return m.Account == account && m.Amount == 700 })
	}

	env.OnActivity(a.Withdraw, mock.Anything, input("alice")).Run(recordKey("withdraw")).
		Return(MoveMoneyResult{TransactionID: "tx-withdraw"}, nil).Once()
	env.OnActivity(a.Deposit, mock.Anything, input("bob")).Run(recordKey("deposit")).
		Return(MoveMoneyResult{}, temporal.NewNonRetryableApplicationError(
			`account "bob": account not found`, ErrTypeAccountNotFound, nil)).Once()
	env.OnActivity(a.Refund, mock.Anything, input("alice")).Run(recordKey("refund")).
		Return(MoveMoneyResult{TransactionID: "tx-refund"}, nil).Once()

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 700, ReferenceID: "ref-refund"})
	require.True(t, env.IsWorkflowCompleted())

	appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeAccountNotFound)
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Error(), "tx-withdraw", "the failure names the refunded withdrawal")
	assert.Contains(t, appErr.Error(), "tx-refund", "the failure names the refund")
	env.AssertExpectations(t)
	env.AssertActivityCalled(t, "Refund", mock.Anything, input("alice"))
	env.AssertActivityNumberOfCalls(t, "Deposit", 1)
	env.AssertActivityNumberOfCalls(t, "Refund", 1)

	// The three movements carry distinct idempotency keys derived from one run.
	mu.Lock()
	defer mu.Unlock()
	runKey, ok := strings.CutSuffix(keys["withdraw"], "/withdraw")
	require.True(t, ok, "withdraw key %q", keys["withdraw"])
	assert.NotEmpty(t, runKey)
	assert.Equal(t, runKey+"/deposit", keys["deposit"])
	assert.Equal(t, runKey+"/refund", keys["refund"])

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

	env.ExecuteWorkflow("MoneyTransfer", MoneyTransferInput{FromAccount: "alice", ToAccount: "bob", Amount: 1})
	require.True(t, env.IsWorkflowCompleted())

	appErr := requireAppError(t, env.GetWorkflowError(), "RefundFailedError")
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

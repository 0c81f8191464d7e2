package temporal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// The ledger's errors leave the activities as non-retryable application errors of the public
// types; success returns the ledger's transaction id.
func TestMoveActivities(t *testing.T) {
	var a *Activities
	tests := []struct {
		name         string
		activity     any
		in           MoveMoneyInput
		wantType     string
		wantBalances map[string]int64
	}{
		{
			name:         "withdraw",
			activity:     a.Withdraw,
			in:           MoveMoneyInput{Account: "alice", Amount: 300, Key: "k"},
			wantBalances: seedWith(map[string]int64{"alice": 99_700}),
		},
		{
			name:         "withdraw overdraft",
			activity:     a.Withdraw,
			in:           MoveMoneyInput{Account: "charlie", Amount: 1, Key: "k"},
			wantType:     ErrTypeInsufficientFunds,
			wantBalances: seedWith(nil),
		},
		{
			name:         "withdraw from unknown account",
			activity:     a.Withdraw,
			in:           MoveMoneyInput{Account: "zed", Amount: 1, Key: "k"},
			wantType:     ErrTypeAccountNotFound,
			wantBalances: seedWith(nil),
		},
		{
			name:         "deposit",
			activity:     a.Deposit,
			in:           MoveMoneyInput{Account: "charlie", Amount: 300, Key: "k"},
			wantBalances: seedWith(map[string]int64{"charlie": 300}),
		},
		{
			name:         "deposit to unknown account",
			activity:     a.Deposit,
			in:           MoveMoneyInput{Account: "zed", Amount: 300, Key: "k"},
			wantType:     ErrTypeAccountNotFound,
			wantBalances: seedWith(nil),
		},
		{
			name:         "refund",
			activity:     a.Refund,
			in:           MoveMoneyInput{Account: "bob", Amount: 300, Key: "k"},
			wantBalances: seedWith(map[string]int64{"bob": 50_300}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			bank := NewBank(SeedAccounts)
			env.RegisterActivity(&Activities{Bank: bank})

			val, err := env.ExecuteActivity(tt.activity, tt.in)
			if tt.wantType != "" {
				appErr := requireAppError(t, err, tt.wantType)
				assert.True(t, appErr.NonRetryable())
			} else {
				require.NoError(t, err)
				var got MoveMoneyResult
				require.NoError(t, val.Get(&got))
				assert.NotEmpty(t, got.TransactionID)
			}
			assert.Equal(t, tt.wantBalances, balances(t, bank))
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

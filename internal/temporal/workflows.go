package temporal

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// activityOptions bounds every activity: Temporal requires a timeout, and a retry policy that
// backs off keeps a failing dependency from being hammered. Business errors are non-retryable.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    500 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Second,
	},
}

// GreetingInput is the input of the Greeting workflow.
type GreetingInput struct {
	Name string `json:"name"`
}

// GreetingResult is the result of the Greeting workflow.
type GreetingResult struct {
	Greeting string `json:"greeting"`
}

// Greeting greets Name; the text is made by an activity.
func Greeting(ctx workflow.Context, in GreetingInput) (GreetingResult, error) {
	if in.Name == "" {
		return GreetingResult{}, invalidInput("name is required")
	}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	var a *Activities
	var out ComposeGreetingResult
	if err := workflow.ExecuteActivity(ctx, a.ComposeGreeting, ComposeGreetingInput(in)).Get(ctx, &out); err != nil {
		return GreetingResult{}, err
	}
	return GreetingResult(out), nil
}

// Echo returns its input unchanged. It takes raw JSON rather than a struct so that any JSON
// value comes back as the same value, large integers with every digit (the SDK's JSON converter
// compacts it and escapes <, > and &, which changes no value).
func Echo(_ workflow.Context, in json.RawMessage) (json.RawMessage, error) {
	return in, nil
}

// MaxSleepSeconds is the longest sleep a time.Duration can hold, in whole seconds; a longer one
// would overflow into a wrong, possibly negative, timer. The contract's SleepInput says the same.
const MaxSleepSeconds = math.MaxInt64 / int64(time.Second)

// SleepInput is the input of the Sleep workflow.
type SleepInput struct {
	Seconds int64 `json:"seconds"`
}

// SleepResult is the result of the Sleep workflow.
type SleepResult struct {
	SleptSeconds int64 `json:"sleptSeconds"`
}

// Sleep waits Seconds on a durable timer, which survives worker and server restarts.
func Sleep(ctx workflow.Context, in SleepInput) (SleepResult, error) {
	switch {
	case in.Seconds < 0:
		return SleepResult{}, invalidInput("seconds must not be negative")
	case in.Seconds > MaxSleepSeconds:
		// The gateway refuses such a start; a client of Temporal's own reaches the workflow.
		return SleepResult{}, invalidInput(fmt.Sprintf("seconds must not exceed %d", MaxSleepSeconds))
	}
	if err := workflow.Sleep(ctx, time.Duration(in.Seconds)*time.Second); err != nil {
		return SleepResult{}, err
	}
	return SleepResult{SleptSeconds: in.Seconds}, nil
}

// MoneyTransferInput is the input of the MoneyTransfer workflow. Amount is in cents.
type MoneyTransferInput struct {
	FromAccount string `json:"fromAccount"`
	ToAccount   string `json:"toAccount"`
	Amount      int64  `json:"amount"`
	ReferenceID string `json:"referenceId"`
}

// MoneyTransferResult is the result of the MoneyTransfer workflow.
type MoneyTransferResult struct {
	ReferenceID  string `json:"referenceId"`
	WithdrawalID string `json:"withdrawalId"`
	DepositID    string `json:"depositId"`
}

// MoneyTransfer withdraws Amount from FromAccount and deposits it into ToAccount. When the deposit
// fails, the withdrawal is refunded before the workflow fails with the deposit's error type.
func MoneyTransfer(ctx workflow.Context, in MoneyTransferInput) (MoneyTransferResult, error) {
	switch {
	case in.FromAccount == "" || in.ToAccount == "":
		return MoneyTransferResult{}, invalidInput("fromAccount and toAccount are required")
	case in.FromAccount == in.ToAccount:
		return MoneyTransferResult{}, invalidInput("fromAccount and toAccount must differ")
	case in.Amount <= 0:
		return MoneyTransferResult{}, invalidInput("amount must be a positive number of cents")
	}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	var a *Activities
	// One key per run: retries of an activity repeat its key, so the ledger applies it once.
	key := workflow.GetInfo(ctx).WorkflowExecution.RunID

	var withdrawal MoveMoneyResult
	err := workflow.ExecuteActivity(ctx, a.Withdraw,
		MoveMoneyInput{Account: in.FromAccount, Amount: in.Amount, Key: key + "/withdraw"}).Get(ctx, &withdrawal)
	if err != nil {
		return MoneyTransferResult{}, businessFailure("withdrawal failed", err)
	}

	var deposit MoveMoneyResult
	err = workflow.ExecuteActivity(ctx, a.Deposit,
		MoveMoneyInput{Account: in.ToAccount, Amount: in.Amount, Key: key + "/deposit"}).Get(ctx, &deposit)
	if err != nil {
		var refund MoveMoneyResult
		refundErr := workflow.ExecuteActivity(ctx, a.Refund,
			MoveMoneyInput{Account: in.FromAccount, Amount: in.Amount, Key: key + "/refund"}).Get(ctx, &refund)
		if refundErr != nil {
			return MoneyTransferResult{}, temporal.NewNonRetryableApplicationError(
				"deposit failed and the refund failed too", "RefundFailedError", errors.Join(err, refundErr))
		}
		return MoneyTransferResult{}, businessFailure(
			fmt.Sprintf("deposit failed; withdrawal %s refunded as %s", withdrawal.TransactionID, refund.TransactionID), err)
	}
	return MoneyTransferResult{ReferenceID: in.ReferenceID, WithdrawalID: withdrawal.TransactionID, DepositID: deposit.TransactionID}, nil
}

// CronCounterInput is the input of the CronCounter workflow; it has no fields.
type CronCounterInput struct{}

// CronCounterResult is the result of the CronCounter workflow.
type CronCounterResult struct {
	Count int64 `json:"count"`
}

// CronCounter counts its cron runs: each run returns one more than the last completed run.
func CronCounter(ctx workflow.Context, _ CronCounterInput) (CronCounterResult, error) {
	var last CronCounterResult
	if workflow.HasLastCompletionResult(ctx) {
		if err := workflow.GetLastCompletionResult(ctx, &last); err != nil {
			return CronCounterResult{}, err
		}
	}
	return CronCounterResult{Count: last.Count + 1}, nil
}

func invalidInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeInvalidInput, nil)
}

// businessFailure fails the workflow with the application error type of the activity that
// failed, so a caller reads `InsufficientFundsError` rather than a generic activity error.
func businessFailure(msg string, err error) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return err
	}
	return temporal.NewNonRetryableApplicationError(msg+": "+appErr.Message(), appErr.Type(), err)
}

package temporal

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/temporalhttp/gateway/internal/model"
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

// The inputs and results of the hosted workflows are the contract's schemas, generated into
// internal/model from api/openapi.yaml: what the gateway checks and the clients type is what the
// workflows take and return. docs/workflow-types.md says how to add one.
type (
	GreetingInput       = model.GreetingInput
	GreetingResult      = model.GreetingResult
	SleepInput          = model.SleepInput
	SleepResult         = model.SleepResult
	MoneyTransferInput  = model.MoneyTransferInput
	MoneyTransferResult = model.MoneyTransferResult
	CronCounterInput    = model.CronCounterInput
	CronCounterResult   = model.CronCounterResult
)

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

// transferByReference is the change after which MoneyTransfer keeps its transfer in the ledger
// under the referenceId and undoes it when canceled. Executions started before it carry on as
// they began (moneyTransferPerRun), so their histories replay.
const transferByReference = "transfer-by-reference"

// The versions of transferByReference.
const (
	// stepsUnderSharedNames: the steps of a transfer by reference sent under the names of the
	// per-run steps (Withdraw, Deposit, Refund) in a wider input. A worker from before that
	// change, handed such a step, read it as a per-run one: no account, AccountNotFoundError, or a
	// refund that gave nothing back. Executions started at this version carry on as they began
	// (moneyTransferSharedNames).
	stepsUnderSharedNames workflow.Version = 1
	// stepsOfTheirOwn: the steps under names of their own (WithdrawForTransfer,
	// DepositForTransfer, CompleteTransfer, UndoTransfer), which an older worker does not host, so
	// it fails them retryably until a worker that knows them runs them; and the transfer completed
	// by a step of its own, which decides its outcome for every execution of the reference.
	stepsOfTheirOwn workflow.Version = 2
)

// transferActivityOptions are those of the ledger steps of a transfer. A cancel waits for the
// step's real outcome (WaitForCancellation) instead of leaving it running unseen behind the
// compensation. Heartbeats bring the cancel to a step that is still running (the ledger's
// test-only delay heartbeats), and they notice a dead worker sooner than the timeout does.
var transferActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: activityOptions.StartToCloseTimeout,
	HeartbeatTimeout:    5 * time.Second,
	WaitForCancellation: true,
	RetryPolicy:         activityOptions.RetryPolicy,
}

// MoneyTransfer withdraws Amount from FromAccount, deposits it into ToAccount and completes the
// transfer, once per ReferenceID. Every execution with the reference is the same transfer: each
// step is made by whichever execution reaches it first, so one that finds the transfer halfway,
// left by an execution that timed out or was terminated, carries it on, and none waits for
// another. The ledger decides the transfer's outcome once, and every execution of the reference
// ends with it: completed, with the same transaction ids; failed with the same type (a refusal,
// or TransferCanceledError when the transfer was undone); or, for an execution whose cancel
// undid it, canceled. When the deposit is refused, the withdrawal is refunded before the workflow
// fails with the deposit's error type. When the execution is canceled before the transfer is
// completed, whatever it moved is given back, by reference, and the workflow ends canceled; if
// the transfer was completed first, by this execution or another, the cancel comes too late and
// the workflow completes with it. It fails with RefundFailedError only if the deposit was spent
// before it could be taken back; the transfer then stands.
func MoneyTransfer(ctx workflow.Context, in MoneyTransferInput) (MoneyTransferResult, error) {
	switch {
	case in.FromAccount == "" || in.ToAccount == "":
		return MoneyTransferResult{}, invalidInput("fromAccount and toAccount are required")
	case in.FromAccount == in.ToAccount:
		return MoneyTransferResult{}, invalidInput("fromAccount and toAccount must differ")
	case in.Amount <= 0:
		return MoneyTransferResult{}, invalidInput("amount must be a positive number of cents")
	}
	version := workflow.GetVersion(ctx, transferByReference, workflow.DefaultVersion, stepsOfTheirOwn)
	if version == workflow.DefaultVersion {
		return moneyTransferPerRun(ctx, in)
	}
	if in.ReferenceID == "" {
		return MoneyTransferResult{}, invalidInput("referenceId is required: the ledger makes each transfer once per referenceId")
	}
	if version == stepsUnderSharedNames {
		return moneyTransferSharedNames(ctx, in)
	}

	step := TransferStepInput{ReferenceID: in.ReferenceID, FromAccount: in.FromAccount, ToAccount: in.ToAccount, Amount: in.Amount}
	stepCtx := workflow.WithActivityOptions(ctx, transferActivityOptions)
	var a *Activities

	err := workflow.ExecuteActivity(stepCtx, a.WithdrawForTransfer, step).Get(stepCtx, nil)
	if refused(err) {
		return MoneyTransferResult{}, businessFailure("withdrawal failed", err)
	}
	if err != nil || ctx.Err() != nil {
		// Canceled during the withdrawal, or just after it: whether it was made or not, it is
		// undone by reference, and stopped for good if it has not reached the ledger yet.
		return undoTransfer(ctx, step, err)
	}

	err = workflow.ExecuteActivity(stepCtx, a.DepositForTransfer, step).Get(stepCtx, nil)
	if refused(err) {
		// The deposit was refused, or another execution undid the transfer: the withdrawal is
		// given back, once, by whichever execution gets there first.
		undone, undoErr := runUndoTransfer(ctx, step)
		if undoErr != nil {
			return MoneyTransferResult{}, temporal.NewNonRetryableApplicationError(
				"deposit failed and the refund failed too", ErrTypeRefundFailed, errors.Join(err, undoErr))
		}
		return MoneyTransferResult{}, businessFailure(
			fmt.Sprintf("deposit failed; withdrawal %s refunded as %s", undone.WithdrawalID, undone.RefundID), err)
	}
	if err != nil || ctx.Err() != nil {
		// The deposit is not final until the transfer is completed: a cancel up to then undoes it.
		return undoTransfer(ctx, step, err)
	}

	var completed TransferStepResult
	err = workflow.ExecuteActivity(stepCtx, a.CompleteTransfer, step).Get(stepCtx, &completed)
	switch {
	case err == nil:
		// A cancel that came during the completion came too late: the transfer is made.
		return transferResult(in.ReferenceID, completed), nil
	case refused(err):
		// Another execution undid the transfer first (TransferCanceledError): nothing of it is
		// left to give back.
		return MoneyTransferResult{}, businessFailure("transfer not completed", err)
	default:
		return undoTransfer(ctx, step, err)
	}
}

func transferResult(ref string, t TransferStepResult) MoneyTransferResult {
	return MoneyTransferResult{ReferenceID: ref, WithdrawalID: t.WithdrawalID, DepositID: t.DepositID}
}

// refused says whether a ledger step failed with the ledger's answer (a non-retryable application
// error), which says that the step moved no money; any other failure, a cancel among them, leaves
// its outcome unknown.
func refused(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable()
}

// undoTransfer gives back whatever the transfer moved, and ends the execution with the outcome
// the ledger then holds. Undone: canceled when a cancel brought it here, and otherwise failed
// with cause, the step's failure. Completed first, by this execution's completion whose answer
// the cancel cut off, or by another execution: the transfer stands, and the execution completes
// with it rather than claim a cancel that did not happen.
func undoTransfer(ctx workflow.Context, step TransferStepInput, cause error) (MoneyTransferResult, error) {
	undone, err := runUndoTransfer(ctx, step)
	switch {
	case err != nil:
		return MoneyTransferResult{}, temporal.NewNonRetryableApplicationError(
			"transfer interrupted and it could not be undone", ErrTypeRefundFailed, errors.Join(cause, err))
	case undone.Completed:
		return transferResult(step.ReferenceID, undone), nil
	case ctx.Err() != nil:
		return MoneyTransferResult{}, temporal.NewCanceledError(undone)
	default:
		return MoneyTransferResult{}, cause
	}
}

// runUndoTransfer runs UndoTransfer on a context of its own, which the workflow's cancel does not
// reach: a compensation that a cancel could stop would leave the money where the cancel found it.
func runUndoTransfer(ctx workflow.Context, step TransferStepInput) (TransferStepResult, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	ctx = workflow.WithActivityOptions(ctx, transferActivityOptions)
	var a *Activities
	var undone TransferStepResult
	err := workflow.ExecuteActivity(ctx, a.UndoTransfer, step).Get(ctx, &undone)
	return undone, err
}

// moneyTransferSharedNames is MoneyTransfer as executions started at stepsUnderSharedNames run
// it: the steps under the per-run steps' names, no completion step. It stays, unchanged, until
// none of them remains open. Its steps reach today's ledger, where any execution of the reference
// makes them; Activities.Deposit completes the transfer, as this code reports it made then.
func moneyTransferSharedNames(ctx workflow.Context, in MoneyTransferInput) (MoneyTransferResult, error) {
	info := workflow.GetInfo(ctx)
	step := MoveMoneyInput{ReferenceID: in.ReferenceID, FromAccount: in.FromAccount, ToAccount: in.ToAccount,
		Amount: in.Amount, Owner: info.WorkflowExecution.ID + "/" + info.OriginalRunID}
	stepCtx := workflow.WithActivityOptions(ctx, transferActivityOptions)
	var a *Activities

	var withdrawal MoveMoneyResult
	err := workflow.ExecuteActivity(stepCtx, a.Withdraw, step).Get(stepCtx, &withdrawal)
	if refused(err) {
		return MoneyTransferResult{}, businessFailure("withdrawal failed", err)
	}
	if err != nil || ctx.Err() != nil {
		return MoneyTransferResult{}, undoSharedNames(ctx, step, err)
	}

	var deposit MoveMoneyResult
	err = workflow.ExecuteActivity(stepCtx, a.Deposit, step).Get(stepCtx, &deposit)
	switch {
	case err == nil:
		return MoneyTransferResult{ReferenceID: in.ReferenceID, WithdrawalID: withdrawal.TransactionID, DepositID: deposit.TransactionID}, nil
	case refused(err):
		refund, refundErr := refundSharedNames(ctx, step)
		if refundErr != nil {
			return MoneyTransferResult{}, temporal.NewNonRetryableApplicationError(
				"deposit failed and the refund failed too", ErrTypeRefundFailed, errors.Join(err, refundErr))
		}
		return MoneyTransferResult{}, businessFailure(
			fmt.Sprintf("deposit failed; withdrawal %s refunded as %s", withdrawal.TransactionID, refund.TransactionID), err)
	default:
		return MoneyTransferResult{}, undoSharedNames(ctx, step, err)
	}
}

// undoSharedNames is undoTransfer for moneyTransferSharedNames.
func undoSharedNames(ctx workflow.Context, step MoveMoneyInput, cause error) error {
	refund, err := refundSharedNames(ctx, step)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(
			"transfer interrupted and it could not be undone", ErrTypeRefundFailed, errors.Join(cause, err))
	}
	if ctx.Err() != nil {
		return temporal.NewCanceledError(refund)
	}
	return cause
}

// refundSharedNames is runUndoTransfer for moneyTransferSharedNames.
func refundSharedNames(ctx workflow.Context, step MoveMoneyInput) (MoveMoneyResult, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	ctx = workflow.WithActivityOptions(ctx, transferActivityOptions)
	var a *Activities
	var refund MoveMoneyResult
	err := workflow.ExecuteActivity(ctx, a.Refund, step).Get(ctx, &refund)
	return refund, err
}

// moneyTransferPerRun is MoneyTransfer as executions started before transferByReference run it:
// every movement keyed by the run, a cancel not undone. It stays, unchanged, until none of them
// remains open.
func moneyTransferPerRun(ctx workflow.Context, in MoneyTransferInput) (MoneyTransferResult, error) {
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
				"deposit failed and the refund failed too", ErrTypeRefundFailed, errors.Join(err, refundErr))
		}
		return MoneyTransferResult{}, businessFailure(
			fmt.Sprintf("deposit failed; withdrawal %s refunded as %s", withdrawal.TransactionID, refund.TransactionID), err)
	}
	return MoneyTransferResult{ReferenceID: in.ReferenceID, WithdrawalID: withdrawal.TransactionID, DepositID: deposit.TransactionID}, nil
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

package temporal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Application error types that callers see as `failure.type`.
const (
	ErrTypeInsufficientFunds = "InsufficientFundsError"
	ErrTypeAccountNotFound   = "AccountNotFoundError"
	ErrTypeInvalidInput      = "InvalidInputError"
	// ErrTypeReferenceConflict: the referenceId already names a transfer with other accounts or
	// another amount.
	ErrTypeReferenceConflict = "ReferenceConflictError"
	// ErrTypeTransferCanceled: the referenceId names a transfer that was canceled and undone.
	ErrTypeTransferCanceled = "TransferCanceledError"
	// ErrTypeNoWithdrawal: the ledger has no withdrawal for a deposit, so it deposits nothing.
	ErrTypeNoWithdrawal = "NoWithdrawalError"
	// ErrTypeNoDeposit: the ledger has no deposit for a transfer asked to complete.
	ErrTypeNoDeposit = "NoDepositError"
	// ErrTypeTransferCompleted: the transfer was completed, so a refund undoes nothing. Only the
	// steps of executions started before transfers were completed by a step of their own answer it
	// (Activities.Refund), as the cause of their RefundFailedError.
	ErrTypeTransferCompleted = "TransferCompletedError"
	// ErrTypeRefundFailed: a transfer could not be undone (its deposit was spent before the cancel
	// could take it back); no money is lost, but the transfer stands.
	ErrTypeRefundFailed = "RefundFailedError"
)

// Activities holds what the activities share: here the bank ledger. The worker registers one
// value; workflows call its methods through a nil *Activities, which only names them.
type Activities struct {
	Bank *Bank
}

// ComposeGreetingInput is the input of ComposeGreeting.
type ComposeGreetingInput struct {
	Name string `json:"name"`
}

// ComposeGreetingResult is the result of ComposeGreeting.
type ComposeGreetingResult struct {
	Greeting string `json:"greeting"`
}

// ComposeGreeting makes the greeting text.
func (a *Activities) ComposeGreeting(_ context.Context, in ComposeGreetingInput) (ComposeGreetingResult, error) {
	return ComposeGreetingResult{Greeting: fmt.Sprintf("Hello, %s!", in.Name)}, nil
}

// TransferStepInput is the input of the steps of a transfer: WithdrawForTransfer,
// DepositForTransfer, CompleteTransfer and UndoTransfer, each a step of the transfer ReferenceID
// of Amount cents from FromAccount to ToAccount. The ledger makes each step once per reference,
// for whichever execution asks first (Bank).
type TransferStepInput struct {
	ReferenceID string `json:"referenceId"`
	FromAccount string `json:"fromAccount"`
	ToAccount   string `json:"toAccount"`
	Amount      int64  `json:"amount"`
}

// TransferStepResult is the result of every step of a transfer: the transfer as the ledger holds
// it after the step, whichever execution made its steps. The ids are those of the transactions
// made: the withdrawal, the deposit, the refund of the withdrawal and the reversal of the deposit.
type TransferStepResult struct {
	WithdrawalID string `json:"withdrawalId,omitempty"`
	DepositID    string `json:"depositId,omitempty"`
	RefundID     string `json:"refundId,omitempty"`
	ReversalID   string `json:"reversalId,omitempty"`
	// Completed: the transfer is made for good, and no refund undoes it.
	Completed bool `json:"completed,omitempty"`
	// Undone: the transfer was undone, and none of its steps is made afterwards.
	Undone bool `json:"undone,omitempty"`
}

// WithdrawForTransfer takes Amount cents from FromAccount, once per transfer.
func (a *Activities) WithdrawForTransfer(ctx context.Context, in TransferStepInput) (TransferStepResult, error) {
	t, err := a.Bank.Withdraw(TransferStep(in))
	return report(ctx, a.Bank, stepResult(t), err)
}

// DepositForTransfer gives Amount cents to ToAccount, once per transfer, after its withdrawal.
func (a *Activities) DepositForTransfer(ctx context.Context, in TransferStepInput) (TransferStepResult, error) {
	t, err := a.Bank.Deposit(TransferStep(in))
	return report(ctx, a.Bank, stepResult(t), err)
}

// CompleteTransfer makes the transfer, deposit made, final: no refund undoes it afterwards
// (Bank.Complete). It fails with TransferCanceledError when the transfer was undone first.
func (a *Activities) CompleteTransfer(ctx context.Context, in TransferStepInput) (TransferStepResult, error) {
	t, err := a.Bank.Complete(TransferStep(in))
	return report(ctx, a.Bank, stepResult(t), err)
}

// UndoTransfer gives back whatever the transfer moved and stops any step not made yet from being
// made later (Bank.Refund). A transfer completed first is not undone: the result says Completed.
func (a *Activities) UndoTransfer(ctx context.Context, in TransferStepInput) (TransferStepResult, error) {
	t, err := a.Bank.Refund(TransferStep(in))
	return report(ctx, a.Bank, stepResult(t), err)
}

func stepResult(t Transfer) TransferStepResult {
	return TransferStepResult{WithdrawalID: t.Withdrawal, DepositID: t.Deposit, RefundID: t.Refund, ReversalID: t.Reversal,
		Completed: t.Completed, Undone: t.Voided}
}

// MoveMoneyInput is the input of Withdraw, Deposit and Refund, the steps of executions started
// before the steps of a transfer had activities of their own (TransferStepInput): a worker of that
// time reads a step under these names in this shape. With a ReferenceID it is a step of the
// transfer ReferenceID of Amount cents from FromAccount to ToAccount, made once per reference for
// whichever execution asks first (Bank).
type MoveMoneyInput struct {
	ReferenceID string `json:"referenceId,omitempty"`
	FromAccount string `json:"fromAccount,omitempty"`
	ToAccount   string `json:"toAccount,omitempty"`
	Amount      int64  `json:"amount"`
	// Owner names the execution that asks: its workflow id and original run id. The ledger once
	// let only the first execution with a reference move its money; it no longer reads Owner,
	// which stays so that the steps of executions started with it read as they were sent.
	Owner string `json:"owner,omitempty"`

	// Account and Key are the steps of executions started before transfers were kept by reference
	// (MoneyTransfer at workflow.DefaultVersion): Amount cents out of or into Account, once per
	// Key. A step without a ReferenceID is one of those.
	Account string `json:"account,omitempty"`
	Key     string `json:"key,omitempty"`
}

// MoveMoneyResult is the result of Withdraw, Deposit and Refund: the step's transaction id. A
// Refund's is empty when no withdrawal had been made, and ReversalID names the deposit it took
// back, if one had been made.
type MoveMoneyResult struct {
	TransactionID string `json:"transactionId"`
	ReversalID    string `json:"reversalId,omitempty"`
}

// Withdraw takes Amount cents from FromAccount.
func (a *Activities) Withdraw(ctx context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
	if in.ReferenceID == "" {
		return a.move(ctx, in.Key, in.Account, -in.Amount)
	}
	t, err := a.Bank.Withdraw(in.step())
	return report(ctx, a.Bank, MoveMoneyResult{TransactionID: t.Withdrawal}, err)
}

// Deposit adds Amount cents to ToAccount. A transfer's deposit also completes the transfer
// (Bank.Complete): the executions that send it report the transfer made as soon as it answers,
// and a refund by another execution must not take back what they reported.
func (a *Activities) Deposit(ctx context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
	if in.ReferenceID == "" {
		return a.move(ctx, in.Key, in.Account, in.Amount)
	}
	t, err := a.Bank.Deposit(in.step())
	if err == nil {
		t, err = a.Bank.Complete(in.step())
	}
	return report(ctx, a.Bank, MoveMoneyResult{TransactionID: t.Deposit}, err)
}

// Refund undoes the transfer: it takes back a deposit made, gives back a withdrawal made, and
// stops any step not made yet from being made later (Bank.Refund). A completed transfer is not
// undone, and the executions that send this step know no answer but an error for it:
// TransferCompletedError, which they report as RefundFailedError, the transfer standing.
func (a *Activities) Refund(ctx context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
	if in.ReferenceID == "" {
		return a.move(ctx, in.Key, in.Account, in.Amount)
	}
	t, err := a.Bank.Refund(in.step())
	if err == nil && t.Completed {
		err = fmt.Errorf("transfer %q stands: %w", in.ReferenceID, ErrTransferCompleted)
	}
	return report(ctx, a.Bank, MoveMoneyResult{TransactionID: t.Refund, ReversalID: t.Reversal}, err)
}

func (in MoveMoneyInput) step() TransferStep {
	return TransferStep{ReferenceID: in.ReferenceID, FromAccount: in.FromAccount, ToAccount: in.ToAccount, Amount: in.Amount}
}

func (a *Activities) move(ctx context.Context, key, account string, delta int64) (MoveMoneyResult, error) {
	tx, err := a.Bank.Move(key, account, delta)
	return report(ctx, a.Bank, MoveMoneyResult{TransactionID: tx}, err)
}

// report answers a ledger step: the ledger's refusals become non-retryable application errors of
// the public types, anything else (a ledger file that cannot be written) is retried, and a step
// made is held first when the bank says so (hold).
func report[R any](ctx context.Context, bank *Bank, res R, err error) (R, error) {
	var none R
	for _, e := range []struct {
		err error
		typ string
	}{
		{ErrInsufficientFunds, ErrTypeInsufficientFunds},
		{ErrAccountNotFound, ErrTypeAccountNotFound},
		{ErrReferenceConflict, ErrTypeReferenceConflict},
		{ErrTransferCanceled, ErrTypeTransferCanceled},
		{ErrNoWithdrawal, ErrTypeNoWithdrawal},
		{ErrNoDeposit, ErrTypeNoDeposit},
		{ErrTransferCompleted, ErrTypeTransferCompleted},
	} {
		if errors.Is(err, e.err) {
			return none, temporal.NewNonRetryableApplicationError(err.Error(), e.typ, nil)
		}
	}
	if err != nil {
		return none, err
	}
	if err := hold(ctx, bank.delay); err != nil {
		return none, err
	}
	return res, nil
}

// hold keeps a step that the ledger has made unreported for the bank's delay (WORKER_BANK_DELAY,
// zero outside tests), heartbeating, so that a test can kill the worker or cancel the transfer
// between the money moving and the activity saying so. A cancel that reaches the activity ends
// the hold, and the activity reports itself canceled although the money moved: the outcome the
// workflow cannot know, which it must undo by reference.
func hold(ctx context.Context, delay time.Duration) error {
	if delay <= 0 {
		return nil
	}
	done := time.NewTimer(delay)
	defer done.Stop()
	beat := time.NewTicker(500 * time.Millisecond)
	defer beat.Stop()
	for {
		activity.RecordHeartbeat(ctx)
		select {
		case <-done.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-beat.C:
		}
	}
}

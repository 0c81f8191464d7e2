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

// MoveMoneyInput is the input of Withdraw, Deposit and Refund: a step of the transfer ReferenceID
// of Amount cents from FromAccount to ToAccount. The ledger makes each step once per reference,
// for whichever execution asks first (Bank).
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
	tx, err := a.Bank.Withdraw(in.step())
	return a.report(ctx, MoveMoneyResult{TransactionID: tx}, err)
}

// Deposit adds Amount cents to ToAccount.
func (a *Activities) Deposit(ctx context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
	if in.ReferenceID == "" {
		return a.move(ctx, in.Key, in.Account, in.Amount)
	}
	tx, err := a.Bank.Deposit(in.step())
	return a.report(ctx, MoveMoneyResult{TransactionID: tx}, err)
}

// Refund undoes the transfer: it takes back a deposit made, gives back a withdrawal made, and
// stops any step not made yet from being made later (Bank.Refund).
func (a *Activities) Refund(ctx context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
	if in.ReferenceID == "" {
		return a.move(ctx, in.Key, in.Account, in.Amount)
	}
	r, err := a.Bank.Refund(in.step())
	return a.report(ctx, MoveMoneyResult{TransactionID: r.Refund, ReversalID: r.Reversal}, err)
}

func (in MoveMoneyInput) step() TransferStep {
	return TransferStep{ReferenceID: in.ReferenceID, FromAccount: in.FromAccount, ToAccount: in.ToAccount, Amount: in.Amount}
}

func (a *Activities) move(ctx context.Context, key, account string, delta int64) (MoveMoneyResult, error) {
	tx, err := a.Bank.Move(key, account, delta)
	return a.report(ctx, MoveMoneyResult{TransactionID: tx}, err)
}

// report answers a ledger step: the ledger's refusals become non-retryable application errors of
// the public types, anything else (a ledger file that cannot be written) is retried, and a step
// made is held first when the bank says so (hold).
func (a *Activities) report(ctx context.Context, res MoveMoneyResult, err error) (MoveMoneyResult, error) {
	for _, e := range []struct {
		err error
		typ string
	}{
		{ErrInsufficientFunds, ErrTypeInsufficientFunds},
		{ErrAccountNotFound, ErrTypeAccountNotFound},
		{ErrReferenceConflict, ErrTypeReferenceConflict},
		{ErrTransferCanceled, ErrTypeTransferCanceled},
		{ErrNoWithdrawal, ErrTypeNoWithdrawal},
	} {
		if errors.Is(err, e.err) {
			return MoveMoneyResult{}, temporal.NewNonRetryableApplicationError(err.Error(), e.typ, nil)
		}
	}
	if err != nil {
		return MoveMoneyResult{}, err
	}
	if err := a.hold(ctx); err != nil {
		return MoveMoneyResult{}, err
	}
	return res, nil
}

// hold keeps a step that the ledger has made unreported for the bank's delay (WORKER_BANK_DELAY,
// zero outside tests), heartbeating, so that a test can kill the worker or cancel the transfer
// between the money moving and the activity saying so. A cancel that reaches the activity ends
// the hold, and the activity reports itself canceled although the money moved: the outcome the
// workflow cannot know, which it must undo by reference.
func (a *Activities) hold(ctx context.Context) error {
	if a.Bank.delay <= 0 {
		return nil
	}
	done := time.NewTimer(a.Bank.delay)
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

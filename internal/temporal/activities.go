package temporal

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Application error types that callers see as `failure.type`.
const (
	ErrTypeInsufficientFunds = "InsufficientFundsError"
	ErrTypeAccountNotFound   = "AccountNotFoundError"
	ErrTypeInvalidInput      = "InvalidInputError"
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

// MoveMoneyInput is the input of Withdraw, Deposit and Refund.
type MoveMoneyInput struct {
	Account string `json:"account"`
	Amount  int64  `json:"amount"`
	// Key makes the movement idempotent across activity retries.
	Key string `json:"key"`
}

// MoveMoneyResult is the result of Withdraw, Deposit and Refund.
type MoveMoneyResult struct {
	TransactionID string `json:"transactionId"`
}

// Withdraw takes Amount cents from Account.
func (a *Activities) Withdraw(_ context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
	return a.move(in.Key, in.Account, -in.Amount)
}

// Deposit adds Amount cents to Account.
func (a *Activities) Deposit(_ context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
	return a.move(in.Key, in.Account, in.Amount)
}

// Refund gives back a withdrawal of Amount cents to Account.
func (a *Activities) Refund(_ context.Context, in MoveMoneyInput) (MoveMoneyResult, error) {
	return a.move(in.Key, in.Account, in.Amount)
}

func (a *Activities) move(key, account string, delta int64) (MoveMoneyResult, error) {
	tx, err := a.Bank.Move(key, account, delta)
	switch {
	case errors.Is(err, ErrInsufficientFunds):
		return MoveMoneyResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInsufficientFunds, nil)
	case errors.Is(err, ErrAccountNotFound):
		return MoveMoneyResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAccountNotFound, nil)
	case err != nil:
		return MoveMoneyResult{}, err
	}
	return MoveMoneyResult{TransactionID: tx}, nil
}

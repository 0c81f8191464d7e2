package temporal

import (
	"errors"
	"fmt"
	"sync"
)

// Bank is the in-memory ledger behind MoneyTransfer. Every movement is keyed by an idempotency
// key, so an activity retried after a worker crash or a lost response never moves money twice.
type Bank struct {
	mu       sync.Mutex
	balances map[string]int64
	applied  map[string]string // idempotency key -> transaction id
	nextTx   int
}

// SeedAccounts are the accounts a new Bank opens with, in cents. README.md lists them.
var SeedAccounts = map[string]int64{
	"alice":   100_000,
	"bob":     50_000,
	"charlie": 0,
}

// NewBank opens a ledger with the given balances in cents.
func NewBank(balances map[string]int64) *Bank {
	b := &Bank{balances: make(map[string]int64, len(balances)), applied: map[string]string{}}
	for account, cents := range balances {
		b.balances[account] = cents
	}
	return b
}

// ErrAccountNotFound and ErrInsufficientFunds are the ledger's business errors.
var (
	ErrAccountNotFound   = errors.New("account not found")
	ErrInsufficientFunds = errors.New("insufficient funds")
)

// Move adds delta cents to account once per key and returns the transaction id. A repeated key
// returns the first transaction's id and changes nothing.
func (b *Bank) Move(key, account string, delta int64) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if tx, ok := b.applied[key]; ok {
		return tx, nil
	}
	balance, ok := b.balances[account]
	if !ok {
		return "", fmt.Errorf("account %q: %w", account, ErrAccountNotFound)
	}
	if balance+delta < 0 {
		return "", fmt.Errorf("account %q has %d cents, needs %d: %w", account, balance, -delta, ErrInsufficientFunds)
	}
	b.balances[account] = balance + delta
	b.nextTx++
	tx := fmt.Sprintf("tx-%06d", b.nextTx)
	b.applied[key] = tx
	return tx, nil
}

// Balance returns an account's balance in cents.
func (b *Bank) Balance(account string) (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cents, ok := b.balances[account]
	return cents, ok
}

package temporal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Bank is the ledger behind MoneyTransfer. Every movement is keyed by an idempotency key, so an
// activity retried after a worker crash or a lost response never moves money twice. By default
// the ledger lives in memory and a restarted worker starts afresh; with a file (OpenBank) it
// survives the worker, so the idempotency keys still hold after a crash.
type Bank struct {
	mu       sync.Mutex
	balances map[string]int64
	applied  map[string]string // idempotency key -> transaction id
	nextTx   int
	// file is where the ledger is kept; empty keeps it in memory only.
	file string
	// delay holds every movement for this long after it is recorded, before it is reported: the
	// fault tests use it to kill a worker while an activity has moved money but not yet answered.
	delay time.Duration
}

// SeedAccounts are the accounts a new Bank opens with, in cents. README.md lists them.
var SeedAccounts = map[string]int64{
	"alice":   100_000,
	"bob":     50_000,
	"charlie": 0,
}

// NewBank opens an in-memory ledger with the given balances in cents.
func NewBank(balances map[string]int64) *Bank {
	b := &Bank{balances: make(map[string]int64, len(balances)), applied: map[string]string{}}
	for account, cents := range balances {
		b.balances[account] = cents
	}
	return b
}

// LedgerFile is the JSON document a bank file holds: the balances, every applied idempotency key
// with its transaction id, and how many transactions were made.
type LedgerFile struct {
	Balances     map[string]int64  `json:"balances"`
	Applied      map[string]string `json:"applied"`
	Transactions int               `json:"transactions"`
}

// OpenBank opens the ledger kept in file, or one with seed balances when file does not exist yet
// (it is written at the first movement). An empty file name gives an in-memory ledger. Every
// movement is then held for delay after it is recorded (zero outside tests).
func OpenBank(file string, seed map[string]int64, delay time.Duration) (*Bank, error) {
	b := NewBank(seed)
	b.file, b.delay = file, delay
	if file == "" {
		return b, nil
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read bank file: %w", err)
	}
	var l LedgerFile
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("bank file %s: %w", file, err)
	}
	if l.Balances == nil || l.Applied == nil || l.Transactions < len(l.Applied) {
		return nil, fmt.Errorf("bank file %s is not a ledger", file)
	}
	b.balances, b.applied, b.nextTx = l.Balances, l.Applied, l.Transactions
	return b, nil
}

// ErrAccountNotFound and ErrInsufficientFunds are the ledger's business errors.
var (
	ErrAccountNotFound   = errors.New("account not found")
	ErrInsufficientFunds = errors.New("insufficient funds")
)

// Move adds delta cents to account once per key and returns the transaction id. A repeated key
// returns the first transaction's id and changes nothing. With a file, a movement counts only
// once the file holds it: if it cannot be written, the movement is undone and the error is
// retryable.
func (b *Bank) Move(key, account string, delta int64) (string, error) {
	tx, err := b.move(key, account, delta)
	if err == nil && b.delay > 0 {
		time.Sleep(b.delay)
	}
	return tx, err
}

func (b *Bank) move(key, account string, delta int64) (string, error) {
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
	if err := b.save(); err != nil {
		b.balances[account] = balance
		b.nextTx--
		delete(b.applied, key)
		return "", err
	}
	return tx, nil
}

// save writes the ledger to its file atomically: a crash leaves either the old file or the new
// one, never a torn one, and the rename is synced so a movement reported is a movement kept.
func (b *Bank) save() error {
	if b.file == "" {
		return nil
	}
	data, err := json.Marshal(LedgerFile{Balances: b.balances, Applied: b.applied, Transactions: b.nextTx})
	if err != nil {
		return fmt.Errorf("encode ledger: %w", err)
	}
	dir := filepath.Dir(b.file)
	tmp, err := os.CreateTemp(dir, filepath.Base(b.file)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save ledger: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save ledger: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save ledger: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save ledger: %w", err)
	}
	if err := os.Rename(tmp.Name(), b.file); err != nil {
		return fmt.Errorf("save ledger: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("save ledger: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("save ledger: %w", err)
	}
	return nil
}

// Balance returns an account's balance in cents.
func (b *Bank) Balance(account string) (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cents, ok := b.balances[account]
	return cents, ok
}

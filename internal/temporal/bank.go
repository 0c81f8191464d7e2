package temporal

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Bank is the ledger behind MoneyTransfer. It keeps one record per transfer, under the transfer's
// reference id (Transfer), so that each step of a transfer (withdraw, deposit, complete, refund)
// is made once however often, and by whichever execution, it is asked for: an activity retried
// after a worker crash or a lost response, a second execution with the same reference, a reset of
// the execution. Every execution with the reference is the same transfer: whichever reaches a
// step first makes it, so a later execution carries on a transfer that an earlier one left
// halfway (timed out or terminated between its steps), and its refund undoes it. A transfer ends
// once, completed or undone, whichever the ledger records first, and every step answers that end
// afterwards, so the executions of a reference report the same outcome. By default the ledger
// lives in memory and a restarted worker starts afresh; with a file (OpenBank) it survives the
// worker, so the records still hold after a crash, and every worker given the same file shares
// the one ledger, as workers share a bank's database: each operation holds the file's lock and
// reads the file afresh (lock).
type Bank struct {
	mu       sync.Mutex
	balances map[string]int64
	// transfers holds every transfer by its reference id.
	transfers map[string]Transfer
	// applied holds the movements of executions started before transfers were kept by reference:
	// idempotency key -> transaction id (see Move).
	applied map[string]string
	nextTx  int
	// file is where the ledger is kept; empty keeps it in memory only.
	file string
	// delay is how long an activity holds a movement after the ledger recorded it, before it
	// reports it (hold): the fault tests use it to kill a worker, or to cancel a transfer, while
	// money has moved but the activity has not yet answered.
	delay time.Duration
}

// Transfer is the ledger's record of one transfer: what it moves and what each step did. A step
// asked for again, by any execution, answers what it did the first time. (Files written before
// any execution could make a step also name an "owner", the execution that alone could; it is
// read and dropped.)
type Transfer struct {
	FromAccount string `json:"fromAccount"`
	ToAccount   string `json:"toAccount"`
	Amount      int64  `json:"amount"`
	// Withdrawal, Deposit, Refund and Reversal are the transaction ids of the steps made: the money
	// taken from FromAccount, given to ToAccount, given back to FromAccount, taken back from
	// ToAccount.
	Withdrawal string `json:"withdrawal,omitempty"`
	Deposit    string `json:"deposit,omitempty"`
	Refund     string `json:"refund,omitempty"`
	Reversal   string `json:"reversal,omitempty"`
	// Refused is the step the ledger refused, and why; that step answers the same to every later
	// caller, so a second execution fails as the first did.
	Refused *Refusal `json:"refused,omitempty"`
	// Completed says the transfer is made for good: an execution confirmed its deposit (Complete),
	// or a refund could not take the deposit back. No refund undoes it afterwards.
	Completed bool `json:"completed,omitempty"`
	// Voided says the transfer was undone, or canceled before its withdrawal reached the ledger:
	// no withdrawal or deposit of it is made afterwards, however late it arrives, and it is never
	// completed.
	Voided bool `json:"voided,omitempty"`
}

// Refusal is a step of a transfer that the ledger refused.
type Refusal struct {
	Step string `json:"step"` // withdraw or deposit
	// Reason is the text of ErrInsufficientFunds or ErrAccountNotFound.
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// TransferStep asks the ledger for one step of the transfer ReferenceID. It does not say which
// execution asks: every execution with the reference is the same transfer.
type TransferStep struct {
	ReferenceID string
	FromAccount string
	ToAccount   string
	Amount      int64
}

// SeedAccounts are the accounts a new Bank opens with, in cents. docs/api.md lists them.
var SeedAccounts = map[string]int64{
	"alice":   100_000,
	"bob":     50_000,
	"charlie": 0,
}

// NewBank opens an in-memory ledger with the given balances in cents.
func NewBank(balances map[string]int64) *Bank {
	b := &Bank{balances: make(map[string]int64, len(balances)), transfers: map[string]Transfer{}, applied: map[string]string{}}
	for account, cents := range balances {
		b.balances[account] = cents
	}
	return b
}

// LedgerFile is the JSON document a bank file holds: the balances, every transfer by its
// reference id, the movements of executions started before transfers were kept by reference (by
// idempotency key), and how many transactions were made.
type LedgerFile struct {
	Balances     map[string]int64    `json:"balances"`
	Transfers    map[string]Transfer `json:"transfers,omitempty"`
	Applied      map[string]string   `json:"applied"`
	Transactions int                 `json:"transactions"`
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
	if err := b.load(); err != nil {
		return nil, err
	}
	return b, nil
}

// load reads the ledger from its file; a file not written yet leaves the ledger as it is.
func (b *Bank) load() error {
	data, err := os.ReadFile(b.file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read bank file: %w", err)
	}
	var l LedgerFile
	if err := json.Unmarshal(data, &l); err != nil {
		return fmt.Errorf("bank file %s: %w", b.file, err)
	}
	if l.Balances == nil || l.Applied == nil || l.Transactions < len(l.Applied)+transactions(l.Transfers) {
		return fmt.Errorf("bank file %s is not a ledger", b.file)
	}
	if l.Transfers == nil { // a file written before transfers were kept by reference
		l.Transfers = map[string]Transfer{}
	}
	b.balances, b.transfers, b.applied, b.nextTx = l.Balances, l.Transfers, l.Applied, l.Transactions
	return nil
}

// lock takes the ledger for one operation and returns what gives it back. With a file, it also
// takes an exclusive lock on the file beside it (file.lock, flock(2)), which every worker sharing
// the ledger takes, and reads the ledger again: another worker may have moved money since. The
// lock is the kernel's, so a worker killed while holding it lets go of it.
func (b *Bank) lock() (unlock func(), err error) {
	b.mu.Lock()
	if b.file == "" {
		return b.mu.Unlock, nil
	}
	f, err := os.OpenFile(b.file+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("lock bank file: %w", err)
	}
	unlock = func() {
		f.Close() // closing the only descriptor releases the flock
		b.mu.Unlock()
	}
	if err := lockFile(f); err != nil {
		unlock()
		return nil, fmt.Errorf("lock bank file: %w", err)
	}
	if err := b.load(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// lockOrLast is lock for a read: when the file cannot be read, the read answers the ledger as
// this worker last read or wrote it.
func (b *Bank) lockOrLast() (unlock func()) {
	if unlock, err := b.lock(); err == nil {
		return unlock
	}
	b.mu.Lock()
	return b.mu.Unlock
}

// transactions counts the transactions the transfers made.
func transactions(transfers map[string]Transfer) int {
	n := 0
	for _, t := range transfers {
		for _, tx := range []string{t.Withdrawal, t.Deposit, t.Refund, t.Reversal} {
			if tx != "" {
				n++
			}
		}
	}
	return n
}

// The ledger's errors. ErrAccountNotFound and ErrInsufficientFunds refuse a movement;
// ErrReferenceConflict, ErrTransferCanceled, ErrNoWithdrawal and ErrNoDeposit refuse a step of a
// transfer for what the ledger already holds of it. None of them asks a step to wait for another
// execution. ErrTransferCompleted is what Activities.Refund answers for a completed transfer.
var (
	ErrAccountNotFound   = errors.New("account not found")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrReferenceConflict = errors.New("reference already names another transfer")
	ErrTransferCanceled  = errors.New("transfer canceled")
	ErrNoWithdrawal      = errors.New("no withdrawal on record")
	ErrNoDeposit         = errors.New("no deposit on record")
	ErrTransferCompleted = errors.New("transfer completed")
)

// Withdraw takes the transfer's amount from its source once and returns the transfer's record. A
// refused withdrawal is recorded, and asked again answers the same refusal, even once the source
// could pay: the reference has had its answer. Any execution with the reference is answered the
// withdrawal already made. A voided transfer answers ErrTransferCanceled, whether its withdrawal
// was made and given back or never made.
func (b *Bank) Withdraw(s TransferStep) (Transfer, error) {
	unlock, err := b.lock()
	if err != nil {
		return Transfer{}, err
	}
	defer unlock()
	t, found, err := b.transfer(s)
	switch {
	case err != nil:
		return Transfer{}, err
	case t.Refused != nil && t.Refused.Step == "withdraw":
		return Transfer{}, t.Refused.err()
	case t.Refused != nil:
		// The deposit was refused, and the withdrawal refunded: the steps answer as they did
		// then, so a second execution fails with the same message.
		return t, nil
	case t.Voided:
		return Transfer{}, canceled(s.ReferenceID)
	case t.Withdrawal != "":
		return t, nil
	case found:
		// Unreachable: a record is made by its withdrawal or by its voiding.
		return Transfer{}, fmt.Errorf("transfer %q is on record without a withdrawal", s.ReferenceID)
	}
	return b.move(s.ReferenceID, s.FromAccount, -s.Amount, &t, "withdraw", &t.Withdrawal)
}

// Deposit gives the transfer's amount to its target once, after its withdrawal, and returns the
// transfer's record. It is made by whichever execution asks first, not necessarily the one that
// withdrew: that one may have timed out or been terminated in between, and nothing waits for it.
// The transfer is not complete until an execution says so (Complete): until then a refund still
// takes the deposit back. A refused deposit is recorded and answered again, as a refused
// withdrawal is. A voided transfer answers ErrTransferCanceled.
func (b *Bank) Deposit(s TransferStep) (Transfer, error) {
	unlock, err := b.lock()
	if err != nil {
		return Transfer{}, err
	}
	defer unlock()
	t, found, err := b.transfer(s)
	switch {
	case err != nil:
		return Transfer{}, err
	case t.Refused != nil:
		return Transfer{}, t.Refused.err()
	case t.Voided:
		return Transfer{}, canceled(s.ReferenceID)
	case t.Deposit != "":
		return t, nil
	case !found || t.Withdrawal == "":
		// The ledger lost the withdrawal (an in-memory ledger restarted between the steps):
		// depositing now would make money out of nothing.
		return Transfer{}, fmt.Errorf("transfer %q: %w", s.ReferenceID, ErrNoWithdrawal)
	}
	return b.move(s.ReferenceID, s.ToAccount, s.Amount, &t, "deposit", &t.Deposit)
}

// move credits account with delta as one step of transfer t, and saves the step, or its refusal,
// on t's record together with the account's balance, at once.
func (b *Bank) move(ref, account string, delta int64, t *Transfer, step string, tx *string) (Transfer, error) {
	u := b.undoable(ref, account)
	id, err := b.credit(account, delta)
	if err != nil {
		t.Refused = refusal(step, err)
	}
	*tx = id
	b.transfers[ref] = *t
	if saveErr := u.commit(); saveErr != nil {
		return Transfer{}, saveErr
	}
	if err != nil {
		return Transfer{}, err
	}
	return *t, nil
}

// Complete makes the transfer, whose deposit has been made, final, once, and returns its record:
// no refund undoes it afterwards. It is the point at which the transfer's outcome is decided
// between the executions of its reference: the first of Complete and Refund to reach the ledger
// wins, and the other answers it. A transfer undone first answers ErrTransferCanceled, and one
// whose deposit is not on record ErrNoDeposit.
func (b *Bank) Complete(s TransferStep) (Transfer, error) {
	unlock, err := b.lock()
	if err != nil {
		return Transfer{}, err
	}
	defer unlock()
	t, _, err := b.transfer(s)
	switch {
	case err != nil:
		return Transfer{}, err
	case t.Refused != nil:
		return Transfer{}, t.Refused.err()
	case t.Voided:
		return Transfer{}, canceled(s.ReferenceID)
	case t.Completed:
		return t, nil
	case t.Deposit == "":
		return Transfer{}, fmt.Errorf("transfer %q: %w", s.ReferenceID, ErrNoDeposit)
	}
	u := b.undoable(s.ReferenceID)
	t.Completed = true
	b.transfers[s.ReferenceID] = t
	if err := u.commit(); err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// Refund undoes the transfer, once, voids it and returns its record: a deposit made is taken back
// from the target, a withdrawal made is given back to the source, and a step not made yet is never
// made afterwards, so a withdrawal whose outcome the caller does not know is refunded if it was
// made and stopped if it was not. Any execution with the reference undoes the transfer, whichever
// made its steps; asked again, Refund answers what the first refund did. A completed transfer is
// not undone: Refund changes nothing and returns its record, Completed, for the caller to report.
// Taking a deposit back needs the target to still hold the money: otherwise the transfer stands,
// completed for good so that no later refund undoes what this one reported it could not, and
// Refund fails with ErrInsufficientFunds.
func (b *Bank) Refund(s TransferStep) (Transfer, error) {
	unlock, err := b.lock()
	if err != nil {
		return Transfer{}, err
	}
	defer unlock()
	t, found, err := b.transfer(s)
	switch {
	case err != nil:
		return Transfer{}, err
	case found && (t.Voided || t.Completed):
		return t, nil
	}
	u := b.undoable(s.ReferenceID, s.FromAccount, s.ToAccount)
	if t.Deposit != "" {
		if t.Reversal, err = b.credit(t.ToAccount, -t.Amount); err != nil {
			t.Reversal, t.Completed = "", true
			b.transfers[s.ReferenceID] = t
			if saveErr := u.commit(); saveErr != nil {
				return Transfer{}, saveErr
			}
			return Transfer{}, fmt.Errorf("take deposit %s back: %w", t.Deposit, err)
		}
	}
	if t.Withdrawal != "" {
		if t.Refund, err = b.credit(t.FromAccount, t.Amount); err != nil {
			u.rollback()
			return Transfer{}, fmt.Errorf("give withdrawal %s back: %w", t.Withdrawal, err)
		}
	}
	t.Voided = true
	b.transfers[s.ReferenceID] = t
	if err := u.commit(); err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// Transfer returns the ledger's record of the transfer ref.
func (b *Bank) Transfer(ref string) (Transfer, bool) {
	defer b.lockOrLast()()
	t, ok := b.transfers[ref]
	return t, ok
}

// transfer returns the record of s's transfer, or a new one. The same reference for another
// transfer is refused: answering the first transfer's outcome would tell the caller that a
// transfer it did not ask for was made.
func (b *Bank) transfer(s TransferStep) (Transfer, bool, error) {
	t, found := b.transfers[s.ReferenceID]
	if !found {
		return Transfer{FromAccount: s.FromAccount, ToAccount: s.ToAccount, Amount: s.Amount}, false, nil
	}
	if t.FromAccount != s.FromAccount || t.ToAccount != s.ToAccount || t.Amount != s.Amount {
		return Transfer{}, true, fmt.Errorf("reference %q: %w", s.ReferenceID, ErrReferenceConflict)
	}
	return t, true, nil
}

// credit adds delta cents to account as a new transaction and returns its id, refusing an
// unknown account and an overdraft. The caller saves the ledger.
func (b *Bank) credit(account string, delta int64) (string, error) {
	balance, ok := b.balances[account]
	if !ok {
		return "", fmt.Errorf("account %q: %w", account, ErrAccountNotFound)
	}
	if balance+delta < 0 {
		return "", fmt.Errorf("account %q has %d cents, needs %d: %w", account, balance, -delta, ErrInsufficientFunds)
	}
	b.balances[account] = balance + delta
	b.nextTx++
	return fmt.Sprintf("tx-%06d", b.nextTx), nil
}

func canceled(ref string) error {
	return fmt.Errorf("transfer %q was undone: %w", ref, ErrTransferCanceled)
}

func refusal(step string, err error) *Refusal {
	r := &Refusal{Step: step, Message: err.Error()}
	for _, reason := range []error{ErrInsufficientFunds, ErrAccountNotFound} {
		if errors.Is(err, reason) {
			r.Reason = reason.Error()
		}
	}
	return r
}

// err is the refusal as the step first answered it: the same message, the same ledger error.
func (r *Refusal) err() error {
	for _, reason := range []error{ErrInsufficientFunds, ErrAccountNotFound} {
		if r.Reason == reason.Error() {
			return refusedError{r.Message, reason}
		}
	}
	return errors.New(r.Message)
}

type refusedError struct {
	message string
	reason  error
}

func (e refusedError) Error() string { return e.message }
func (e refusedError) Unwrap() error { return e.reason }

// undo puts back what a change of the ledger touched when the file cannot hold the change, so
// that a movement counts only once it is kept.
type undo struct {
	b        *Bank
	ref      string
	transfer Transfer
	had      bool
	balances map[string]int64
	nextTx   int
}

// undoable remembers the transfer ref (none when empty), the balances of accounts and the
// transaction count: the parts of the ledger a change is about to touch.
func (b *Bank) undoable(ref string, accounts ...string) undo {
	u := undo{b: b, ref: ref, balances: map[string]int64{}, nextTx: b.nextTx}
	u.transfer, u.had = b.transfers[ref]
	for _, a := range accounts {
		if cents, ok := b.balances[a]; ok {
			u.balances[a] = cents
		}
	}
	return u
}

// commit saves the ledger, or rolls the change back when it cannot.
func (u undo) commit() error {
	if err := u.b.save(); err != nil {
		u.rollback()
		return err
	}
	return nil
}

func (u undo) rollback() {
	b := u.b
	maps.Copy(b.balances, u.balances)
	b.nextTx = u.nextTx
	switch {
	case u.ref == "": // a movement by key touches no transfer
	case u.had:
		b.transfers[u.ref] = u.transfer
	default:
		delete(b.transfers, u.ref)
	}
}

// Move adds delta cents to account once per key and returns the transaction id: the movement of
// an execution started before transfers were kept by reference. A repeated key returns the first
// transaction's id and changes nothing. With a file, a movement counts only once the file holds
// it: if it cannot be written, the movement is undone and the error is retryable.
func (b *Bank) Move(key, account string, delta int64) (string, error) {
	unlock, err := b.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	if tx, ok := b.applied[key]; ok {
		return tx, nil
	}
	u := b.undoable("", account)
	tx, err := b.credit(account, delta)
	if err != nil {
		return "", err
	}
	b.applied[key] = tx
	if err := u.commit(); err != nil {
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
	data, err := json.Marshal(LedgerFile{Balances: b.balances, Transfers: b.transfers, Applied: b.applied, Transactions: b.nextTx})
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
	defer b.lockOrLast()()
	cents, ok := b.balances[account]
	return cents, ok
}

// Package executions is the gateway's core: what a start means (its specification, its
// Idempotency-Key, its conflict and reuse policies) carried out on Temporal through a narrow port.
// It knows Temporal and nothing of HTTP or of the generated API types: the HTTP handlers decode a
// request into a StartSpec once, and translate what comes back.
package executions

import (
	"encoding/json"
	"time"
)

// ConflictPolicy says what a start does when a run of its workflow id is running.
type ConflictPolicy int

// The conflict policies. The zero value is the default of its start: FAIL for a plain start,
// USE_EXISTING for a signal-with-start (a signal goes to the running execution).
const (
	ConflictDefault ConflictPolicy = iota
	ConflictFail
	ConflictUseExisting
	ConflictTerminateExisting
)

// ReusePolicy says whether a start may use a workflow id again after its earlier runs closed.
type ReusePolicy int

// The reuse policies; the zero value is Temporal's default, ALLOW_DUPLICATE.
const (
	ReuseAllowDuplicate ReusePolicy = iota
	ReuseAllowDuplicateFailedOnly
	ReuseRejectDuplicate
)

// StartSpec is one start request, decoded once: every path of a start reads it, and its
// Idempotency-Key fingerprint is taken from it, not from the bytes the client sent.
type StartSpec struct {
	WorkflowType string
	// WorkflowID is the business id; empty means one is made: from the key when there is one
	// (so that a retry names the same execution), a new UUID otherwise.
	WorkflowID string
	// TaskQueue is where the run's tasks go; empty means the deployment's own queue.
	TaskQueue string
	// Input is the workflow's one argument as JSON; nil (or JSON null) passes none.
	Input        json.RawMessage
	Conflict     ConflictPolicy
	Reuse        ReusePolicy
	CronSchedule string
	// Memo holds the caller's memo fields as JSON values.
	Memo             map[string]json.RawMessage
	ExecutionTimeout time.Duration
	RunTimeout       time.Duration
	StartDelay       time.Duration
	// Signal makes the start a signal-with-start.
	Signal *Signal
	// Update makes the start an update-with-start (see Service.UpdateWithStart); it excludes
	// Signal, CronSchedule and StartDelay, which Temporal refuses with it.
	Update *Update
	// Key is the request's Idempotency-Key; empty when it has none.
	Key string
	// Caller names whoever sent the request (the principal of its API key or token, or ""
	// when the gateway runs open): a key means something only to the caller that chose it.
	Caller string
	// OnlyOwnType is a start that an existing run of another workflow type does not answer (a
	// typed start): StartAndAwait answers such a run at once, without waiting for it, for the
	// caller to refuse. It is not part of the request's meaning for an Idempotency-Key.
	OnlyOwnType bool
}

// Signal is the signal of a signal-with-start.
type Signal struct {
	Name string
	// Input is the signal's one argument as JSON; nil (or JSON null) passes none.
	Input json.RawMessage
}

// Update is the update of an update-with-start.
type Update struct {
	Name string
	// ID identifies the update: Temporal applies an update id once per run. Empty means one is
	// made: from the Idempotency-Key when there is one, a new UUID otherwise.
	ID string
	// Input is the update's one argument as JSON; nil (or JSON null) passes none.
	Input json.RawMessage
}

// conflict is the policy the spec asks for, its default resolved.
func (s StartSpec) conflict() ConflictPolicy {
	switch {
	case s.Conflict != ConflictDefault:
		return s.Conflict
	case s.Signal != nil, s.Update != nil:
		return ConflictUseExisting
	}
	return ConflictFail
}

// InvalidSpecError says that a start specification asks for something no start can do; Field
// names the request field at fault.
type InvalidSpecError struct {
	Field, Message string
}

func (e *InvalidSpecError) Error() string { return e.Field + " " + e.Message }

// check refuses combinations Temporal cannot carry out.
func (s StartSpec) check() error {
	if s.Signal != nil && s.conflict() == ConflictFail {
		return &InvalidSpecError{"idConflictPolicy",
			"must be USE_EXISTING or TERMINATE_EXISTING with signal: a signal goes to the running execution"}
	}
	if s.Update != nil {
		switch {
		case s.Signal != nil:
			return &InvalidSpecError{"signal", "cannot be combined with an update"}
		case s.CronSchedule != "":
			return &InvalidSpecError{"cronSchedule", "cannot be combined with an update: Temporal does not start a cron workflow with one"}
		case s.StartDelay != 0:
			return &InvalidSpecError{"startDelay", "cannot be combined with an update: the update needs the run at once"}
		}
	}
	return nil
}

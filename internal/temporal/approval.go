package temporal

import (
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/temporalhttp/gateway/internal/model"
)

// Names under which the Approval workflow takes its decision, answers its state and approves.
const (
	ApprovalDecisionSignal = "decision"
	ApprovalStatusQuery    = "status"
	ApprovalApproveUpdate  = "approve"
)

// States of an approval request, as the status query and the result report them.
const (
	ApprovalPending  = model.ApprovalStatePENDING
	ApprovalApproved = model.ApprovalStateAPPROVED
	ApprovalRejected = model.ApprovalStateREJECTED
	ApprovalExpired  = model.ApprovalStateEXPIRED
)

// DefaultApprovalTimeoutSeconds is how long a request waits for a decision when the input gives
// no timeout.
const DefaultApprovalTimeoutSeconds = 3600

// maxTimeoutSeconds is the longest wait a time.Duration can hold; a longer one would overflow
// into a wrong, possibly negative, timer.
const maxTimeoutSeconds = math.MaxInt64 / int64(time.Second)

// timeoutOf is the wait that an input's timeoutSeconds asks for: def when it is 0, and an
// InvalidInputError when it is negative or longer than a time.Duration holds.
func timeoutOf(seconds int64, def time.Duration) (time.Duration, error) {
	switch {
	case seconds < 0:
		return 0, invalidInput("timeoutSeconds must not be negative")
	case seconds > maxTimeoutSeconds:
		return 0, invalidInput(fmt.Sprintf("timeoutSeconds must not exceed %d", maxTimeoutSeconds))
	case seconds == 0:
		return def, nil
	}
	return time.Duration(seconds) * time.Second, nil
}

// The Approval's input, result, and the payloads of its signal, query and update: the contract's
// schemas (internal/model). Amount and Approver of the input describe the request to whoever
// decides it; the workflow keeps them in its history and does not act on them. A zero
// TimeoutSeconds means DefaultApprovalTimeoutSeconds. The result is the decision taken, or
// ApprovalExpired with an empty comment when none came in time.
type (
	ApprovalInput    = model.ApprovalInput
	ApprovalDecision = model.ApprovalDecision
	ApproveInput     = model.ApproveInput
	ApprovalStatus   = model.ApprovalStatus
	ApprovalResult   = model.ApprovalResult
)

// approval is the state the workflow and its handlers share.
type approval struct {
	state   model.ApprovalState
	comment string
}

// decide records the first decision only: once a request is decided, a late signal or update
// must not overturn what callers may already have acted on.
func (a *approval) decide(approved bool, comment string) bool {
	if a.state != ApprovalPending {
		return false
	}
	a.state, a.comment = ApprovalRejected, comment
	if approved {
		a.state = ApprovalApproved
	}
	return true
}

// expire ends a request that is still pending. The deadline can fire in the same workflow task
// that an update approves in; the approval, already answered to its caller, stands.
func (a *approval) expire() {
	if a.state == ApprovalPending {
		a.state = ApprovalExpired
	}
}

// errNotPending refuses an approve update; it is built by both the validator and the handler
// so that a caller reads the same reason whichever of them refused.
func (a *approval) errNotPending() error {
	return fmt.Errorf("request is no longer pending: %s", a.state)
}

// Approval waits up to TimeoutSeconds for a decision on a request: a decision signal approves or
// rejects it, an approve update approves it and answers the new status, and a status query
// reads the state at any time. The first decision wins; without one the request expires.
func Approval(ctx workflow.Context, in ApprovalInput) (ApprovalResult, error) {
	timeout, err := timeoutOf(in.TimeoutSeconds, DefaultApprovalTimeoutSeconds*time.Second)
	if err != nil {
		return ApprovalResult{}, err
	}

	a := &approval{state: ApprovalPending}
	err = workflow.SetQueryHandler(ctx, ApprovalStatusQuery, func() (ApprovalStatus, error) {
		return ApprovalStatus{State: a.state}, nil
	})
	if err != nil {
		return ApprovalResult{}, err
	}

	decisions := workflow.GetSignalChannel(ctx, ApprovalDecisionSignal)
	logger := workflow.GetLogger(ctx)
	// receive reads one decision signal; ReceiveAsync drops one whose payload does not decode.
	receive := func() bool {
		var d ApprovalDecision
		if !decisions.ReceiveAsync(&d) {
			return false
		}
		if !a.decide(d.Approved, d.Comment) {
			logger.Info("Decision ignored: the request is already decided",
				"RequestID", in.RequestID, "State", a.state, "Approved", d.Approved)
		}
		return true
	}
	// The update handler settles this future so that the wait below wakes for an update as it
	// does for a signal or the timer.
	approvedByUpdate, settle := workflow.NewFuture(ctx)
	err = workflow.SetUpdateHandlerWithOptions(ctx, ApprovalApproveUpdate,
		func(_ workflow.Context, u ApproveInput) (ApprovalStatus, error) {
			// Decided again rather than trusting the validator, which the SDK skips on replay:
			// whatever ran first, the first decision stays final.
			if !a.decide(true, u.Comment) {
				return ApprovalStatus{}, a.errNotPending()
			}
			settle.Set(nil, nil)
			return ApprovalStatus{State: a.state}, nil
		},
		workflow.UpdateHandlerOptions{
			// Refusing here, rather than in the handler, keeps a refused update out of the history.
			Validator: func(workflow.Context, ApproveInput) error {
				if a.state != ApprovalPending {
					return a.errNotPending()
				}
				return nil
			},
		})
	if err != nil {
		return ApprovalResult{}, err
	}

	// Cancelled once the request is decided, so that no timer outlives the wait.
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	timer := workflow.NewTimer(timerCtx, timeout)
	var timerErr error
	wait := workflow.NewSelector(ctx).
		AddReceive(decisions, func(workflow.ReceiveChannel, bool) { receive() }).
		AddFuture(approvedByUpdate, func(workflow.Future) {}).
		AddFuture(timer, func(f workflow.Future) {
			// An error is the workflow's cancellation; anything else is the deadline.
			if timerErr = f.Get(ctx, nil); timerErr == nil {
				a.expire()
			}
		})
	for a.state == ApprovalPending && timerErr == nil {
		wait.Select(ctx)
	}
	if timerErr != nil {
		return ApprovalResult{}, timerErr
	}
	cancelTimer()

	// An approve update still running would be cut off by the return.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return ApprovalResult{}, err
	}
	// Decisions that came after the first are ignored; reading them says so in the log instead of
	// the SDK's warning about unhandled signals.
	for receive() {
	}
	return ApprovalResult{State: a.state, Comment: a.comment}, nil
}

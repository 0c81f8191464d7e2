package temporal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The tests use the wire names ("decision", "approve", "status", "APPROVED", ...) rather than the
// constants, so that renaming one fails here before it breaks a caller.

// step is something a test does to a running Approval, after a delay of test time from the start.
type step struct {
	after time.Duration
	do    func(env *testsuite.TestWorkflowEnvironment)
}

func signalDecision(approved bool, comment string) func(*testsuite.TestWorkflowEnvironment) {
	return func(env *testsuite.TestWorkflowEnvironment) {
		env.SignalWorkflow("decision", ApprovalDecision{Approved: approved, Comment: comment})
	}
}

// runApproval runs Approval with the steps scheduled and returns its result and how much test
// time passed until it completed.
func runApproval(t *testing.T, env *testsuite.TestWorkflowEnvironment, in ApprovalInput, steps ...step) (ApprovalResult, time.Duration) {
	t.Helper()
	for _, s := range steps {
		env.RegisterDelayedCallback(func() { s.do(env) }, s.after)
	}
	start := env.Now()
	env.ExecuteWorkflow("Approval", in)
	require.True(t, env.IsWorkflowCompleted())
	elapsed := env.Now().Sub(start)
	require.NoError(t, env.GetWorkflowError())
	var got ApprovalResult
	require.NoError(t, env.GetWorkflowResult(&got))
	return got, elapsed
}

// queryStatus asks the status query. It records rather than asserts, so that it can run inside a
// delayed callback.
func queryStatus(env *testsuite.TestWorkflowEnvironment) (string, error) {
	v, err := env.QueryWorkflow("status")
	if err != nil {
		return "", err
	}
	var s ApprovalStatus
	err = v.Get(&s)
	return string(s.State), err
}

// updateOutcome records what became of one approve update.
type updateOutcome struct {
	accepted  bool
	rejectErr error
	completed bool
	result    any
	err       error
}

func (o *updateOutcome) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept:   func() { o.accepted = true },
		OnReject:   func(err error) { o.rejectErr = err },
		OnComplete: func(result any, err error) { o.completed, o.result, o.err = true, result, err },
	}
}

func approve(id, comment string, o *updateOutcome) func(*testsuite.TestWorkflowEnvironment) {
	return func(env *testsuite.TestWorkflowEnvironment) {
		env.UpdateWorkflow("approve", id, o.callbacks(), ApproveInput{Comment: comment})
	}
}

func TestApproval(t *testing.T) {
	tests := []struct {
		name        string
		in          ApprovalInput
		steps       []step
		want        ApprovalResult
		wantElapsed time.Duration
	}{
		{
			name:        "approved by signal",
			in:          ApprovalInput{RequestID: "req-1", Amount: 5_000, Approver: "ada", TimeoutSeconds: 600},
			steps:       []step{{time.Minute, signalDecision(true, "looks good")}},
			want:        ApprovalResult{State: "APPROVED", Comment: "looks good"},
			wantElapsed: time.Minute,
		},
		{
			name:        "rejected by signal",
			in:          ApprovalInput{RequestID: "req-2", Amount: 900_000, Approver: "ada", TimeoutSeconds: 600},
			steps:       []step{{time.Minute, signalDecision(false, "over budget")}},
			want:        ApprovalResult{State: "REJECTED", Comment: "over budget"},
			wantElapsed: time.Minute,
		},
		{
			name:        "expires after timeoutSeconds",
			in:          ApprovalInput{RequestID: "req-3", TimeoutSeconds: 30},
			want:        ApprovalResult{State: "EXPIRED"},
			wantElapsed: 30 * time.Second,
		},
		{
			name:        "a decision at the last second is taken",
			in:          ApprovalInput{RequestID: "req-4", TimeoutSeconds: 30},
			steps:       []step{{29 * time.Second, signalDecision(false, "just in time")}},
			want:        ApprovalResult{State: "REJECTED", Comment: "just in time"},
			wantElapsed: 29 * time.Second,
		},
		{
			// Both signals are in the channel when the workflow next runs.
			name: "of two decisions in one workflow task the first wins",
			in:   ApprovalInput{RequestID: "req-5"},
			steps: []step{{time.Minute, func(env *testsuite.TestWorkflowEnvironment) {
				env.SignalWorkflowSkippingWorkflowTask("decision", ApprovalDecision{Approved: true, Comment: "first"})
				env.SignalWorkflow("decision", ApprovalDecision{Approved: false, Comment: "second"})
			}}},
			want:        ApprovalResult{State: "APPROVED", Comment: "first"},
			wantElapsed: time.Minute,
		},
		{
			name: "a decision that does not decode is dropped",
			in:   ApprovalInput{RequestID: "req-6"},
			steps: []step{
				{time.Minute, func(env *testsuite.TestWorkflowEnvironment) { env.SignalWorkflow("decision", "yes please") }},
				{2 * time.Minute, signalDecision(true, "")},
			},
			want:        ApprovalResult{State: "APPROVED"},
			wantElapsed: 2 * time.Minute,
		},
		{
			name: "a signal of another name is no decision",
			in:   ApprovalInput{RequestID: "req-7", TimeoutSeconds: 120},
			steps: []step{{time.Minute, func(env *testsuite.TestWorkflowEnvironment) {
				env.SignalWorkflow("approve", ApprovalDecision{Approved: true})
			}}},
			want:        ApprovalResult{State: "EXPIRED"},
			wantElapsed: 2 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			got, elapsed := runApproval(t, env, tt.in, tt.steps...)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantElapsed, elapsed, "test time until the workflow completed")
		})
	}
}

func TestApprovalApproveUpdate(t *testing.T) {
	env, _ := newEnv(t)
	var u updateOutcome
	got, elapsed := runApproval(t, env, ApprovalInput{RequestID: "req-1", Amount: 5_000, Approver: "ada"},
		step{time.Minute, approve("update-1", "approved by phone", &u)})

	assert.True(t, u.accepted, "the validator accepts while the request is pending")
	assert.NoError(t, u.rejectErr)
	require.True(t, u.completed)
	require.NoError(t, u.err)
	assert.Equal(t, ApprovalStatus{State: "APPROVED"}, u.result, "the update answers the new status")
	assert.Equal(t, ApprovalResult{State: "APPROVED", Comment: "approved by phone"}, got)
	assert.Equal(t, time.Minute, elapsed, "the workflow ends with the update, not at the timeout")
}

// holdOpen keeps a workflow running for a while after its function has returned. A real server
// has such a window: an update that arrives while the task completing the workflow is in flight
// is handed to the worker first, with the request already decided. The test environment leaves
// no such window, so the tests that reach the approve validator open one.
type holdOpen struct {
	interceptor.WorkerInterceptorBase
	d time.Duration
}

func (h *holdOpen) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &holdOpenInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, d: h.d}
}

type holdOpenInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	d time.Duration
}

func (h *holdOpenInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	result, err := h.Next.ExecuteWorkflow(ctx, in)
	if sleepErr := workflow.Sleep(ctx, h.d); sleepErr != nil {
		return nil, sleepErr
	}
	return result, err
}

func TestApprovalRefusesApproveOnceDecided(t *testing.T) {
	tests := []struct {
		name      string
		in        ApprovalInput
		decide    []step // the first decision, and anything else before the late update
		lateAt    time.Duration
		after     []step // what comes after the late update
		wantError string
		want      ApprovalResult
	}{
		{
			name:      "after a rejection by signal",
			in:        ApprovalInput{RequestID: "req-1"},
			decide:    []step{{time.Minute, signalDecision(false, "over budget")}},
			lateAt:    2 * time.Minute,
			wantError: "request is no longer pending: REJECTED",
			want:      ApprovalResult{State: "REJECTED", Comment: "over budget"},
		},
		{
			name:      "after an approval by signal",
			in:        ApprovalInput{RequestID: "req-2"},
			decide:    []step{{time.Minute, signalDecision(true, "fine")}},
			lateAt:    2 * time.Minute,
			wantError: "request is no longer pending: APPROVED",
			want:      ApprovalResult{State: "APPROVED", Comment: "fine"},
		},
		{
			name:      "after an approval by update, and a rejecting signal after that changes nothing",
			in:        ApprovalInput{RequestID: "req-3"},
			decide:    []step{{time.Minute, approve("first", "by phone", &updateOutcome{})}},
			lateAt:    2 * time.Minute,
			after:     []step{{3 * time.Minute, signalDecision(false, "too late")}},
			wantError: "request is no longer pending: APPROVED",
			want:      ApprovalResult{State: "APPROVED", Comment: "by phone"},
		},
		{
			name:      "after expiry",
			in:        ApprovalInput{RequestID: "req-4", TimeoutSeconds: 30},
			lateAt:    time.Minute,
			wantError: "request is no longer pending: EXPIRED",
			want:      ApprovalResult{State: "EXPIRED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&holdOpen{d: time.Hour}}})
			var late updateOutcome
			var stateAfter string
			var queryErr error
			steps := append([]step{}, tt.decide...)
			steps = append(steps, step{tt.lateAt, approve("late", "me too", &late)})
			steps = append(steps, tt.after...)
			steps = append(steps, step{tt.lateAt + 30*time.Minute, func(env *testsuite.TestWorkflowEnvironment) {
				stateAfter, queryErr = queryStatus(env)
			}})

			got, _ := runApproval(t, env, tt.in, steps...)

			require.Error(t, late.rejectErr, "the validator refuses the late update")
			assert.Contains(t, late.rejectErr.Error(), tt.wantError)
			assert.False(t, late.accepted)
			assert.False(t, late.completed, "a refused update runs no handler")
			require.NoError(t, queryErr)
			assert.Equal(t, string(tt.want.State), stateAfter, "the refused update changed nothing")
			assert.Equal(t, tt.want, got)
		})
	}
}

// An update and a decision signal handled in one workflow task: whichever the SDK runs first
// decides, and the update's answer agrees with the workflow's result.
func TestApprovalSignalAndUpdateInOneTask(t *testing.T) {
	env, _ := newEnv(t)
	var u updateOutcome
	got, _ := runApproval(t, env, ApprovalInput{RequestID: "req-1"}, step{time.Minute, func(env *testsuite.TestWorkflowEnvironment) {
		env.SignalWorkflowSkippingWorkflowTask("decision", ApprovalDecision{Approved: false, Comment: "by signal"})
		env.UpdateWorkflow("approve", "update-1", u.callbacks(), ApproveInput{Comment: "by update"})
	}})

	if u.completed && u.err == nil {
		assert.Equal(t, ApprovalStatus{State: "APPROVED"}, u.result)
		assert.Equal(t, ApprovalResult{State: "APPROVED", Comment: "by update"}, got, "the update decided; the signal is ignored")
		return
	}
	refusal := u.rejectErr
	if refusal == nil {
		refusal = u.err
	}
	require.Error(t, refusal, "the update neither succeeded nor was refused")
	assert.Contains(t, refusal.Error(), "request is no longer pending: REJECTED")
	assert.Equal(t, ApprovalResult{State: "REJECTED", Comment: "by signal"}, got, "the signal decided; the update is refused")
}

func TestApprovalStatusQuery(t *testing.T) {
	var u updateOutcome
	tests := []struct {
		name     string
		decision []step
		want     string
	}{
		{name: "approved by signal", decision: []step{{time.Minute, signalDecision(true, "")}}, want: "APPROVED"},
		{name: "rejected by signal", decision: []step{{time.Minute, signalDecision(false, "")}}, want: "REJECTED"},
		{name: "approved by update", decision: []step{{time.Minute, approve("update-1", "", &u)}}, want: "APPROVED"},
		{name: "expired", want: "EXPIRED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			var before string
			var beforeErr error
			query := step{30 * time.Second, func(env *testsuite.TestWorkflowEnvironment) { before, beforeErr = queryStatus(env) }}

			runApproval(t, env, ApprovalInput{RequestID: "req-1", TimeoutSeconds: 120}, append([]step{query}, tt.decision...)...)

			require.NoError(t, beforeErr)
			assert.Equal(t, "PENDING", before, "before the decision")
			after, err := queryStatus(env)
			require.NoError(t, err, "a completed workflow answers queries")
			assert.Equal(t, tt.want, after, "after the decision")
		})
	}
}

// Without timeoutSeconds the request waits an hour: it is still pending a second before.
func TestApprovalDefaultTimeout(t *testing.T) {
	env, _ := newEnv(t)
	var before string
	var beforeErr error
	got, elapsed := runApproval(t, env, ApprovalInput{RequestID: "req-1"},
		step{time.Hour - time.Second, func(env *testsuite.TestWorkflowEnvironment) { before, beforeErr = queryStatus(env) }})

	require.NoError(t, beforeErr)
	assert.Equal(t, "PENDING", before, "a second before the hour")
	assert.Equal(t, ApprovalResult{State: "EXPIRED"}, got)
	assert.Equal(t, time.Hour, elapsed)
}

func TestApprovalInvalidInput(t *testing.T) {
	tests := []struct {
		name    string
		seconds int64
	}{
		{name: "negative timeout", seconds: -1},
		{name: "timeout beyond what a duration holds", seconds: maxTimeoutSeconds + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			start := env.Now()
			env.ExecuteWorkflow("Approval", ApprovalInput{RequestID: "req-1", TimeoutSeconds: tt.seconds})
			require.True(t, env.IsWorkflowCompleted())

			appErr := requireAppError(t, env.GetWorkflowError(), ErrTypeInvalidInput)
			assert.True(t, appErr.NonRetryable())
			assert.Contains(t, appErr.Error(), "timeoutSeconds")
			assert.Zero(t, env.Now().Sub(start), "an invalid input must not start a timer")
		})
	}
}

// The longest accepted timeout starts a timer rather than overflowing into an immediate expiry.
func TestApprovalLongestTimeout(t *testing.T) {
	env, _ := newEnv(t)
	got, elapsed := runApproval(t, env, ApprovalInput{RequestID: "req-1", TimeoutSeconds: maxTimeoutSeconds},
		step{24 * time.Hour, signalDecision(true, "")})

	assert.Equal(t, ApprovalResult{State: "APPROVED"}, got)
	assert.Equal(t, 24*time.Hour, elapsed)
}

func TestApprovalCanceled(t *testing.T) {
	env, _ := newEnv(t)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow("Approval", ApprovalInput{RequestID: "req-1"})
	require.True(t, env.IsWorkflowCompleted())

	err := env.GetWorkflowError()
	require.Error(t, err)
	assert.True(t, temporal.IsCanceledError(err), "a canceled request fails as canceled, not expired: %v", err)
}

package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/temporalhttp/gateway/internal/gen"
)

// gatewayIdentity names the gateway in the histories of the calls it makes itself.
const gatewayIdentity = "temporal-http-gateway"

// signalWithStart delivers body.Signal to the running execution of opts.ID, starting one first
// when none runs. It calls the service directly: only its answer says whether a run was started,
// which decides between 201 and 200 (the SDK's SignalWithStartWorkflow drops it).
func (s *Server) signalWithStart(ctx context.Context, body *gen.StartWorkflowRequest, opts client.StartWorkflowOptions,
	args []any, idem *idempotencyRecord) (runID string, started bool, err error) {
	conflict := enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	if body.IdConflictPolicy != nil {
		switch *body.IdConflictPolicy {
		case gen.StartWorkflowRequestIdConflictPolicyTERMINATEEXISTING:
			conflict = enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
		case gen.StartWorkflowRequestIdConflictPolicyFAIL:
			return "", false, validationProblem(gen.FieldError{In: gen.FieldErrorInBody, Field: "idConflictPolicy",
				Message: "must be USE_EXISTING or TERMINATE_EXISTING with signal: a signal goes to the running execution"})
		}
	}
	dc := converter.GetDefaultDataConverter()
	input, err := dc.ToPayloads(args...)
	if err != nil {
		return "", false, err
	}
	signalInput, err := dc.ToPayloads(arguments(body.Signal.Input)...)
	if err != nil {
		return "", false, err
	}
	req := &workflowservice.SignalWithStartWorkflowExecutionRequest{
		Namespace:                s.namespace(),
		WorkflowId:               opts.ID,
		WorkflowType:             &commonpb.WorkflowType{Name: body.WorkflowType},
		TaskQueue:                &taskqueuepb.TaskQueue{Name: opts.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input:                    input,
		Identity:                 gatewayIdentity,
		RequestId:                uuid.NewString(),
		WorkflowIdReusePolicy:    opts.WorkflowIDReusePolicy,
		WorkflowIdConflictPolicy: conflict,
		SignalName:               body.Signal.Name,
		SignalInput:              signalInput,
		CronSchedule:             opts.CronSchedule,
	}
	if idem != nil {
		// The same key makes the same request id, by which Temporal recognises a repeated request.
		req.RequestId = idem.Key
	}
	if opts.WorkflowExecutionTimeout > 0 {
		req.WorkflowExecutionTimeout = durationpb.New(opts.WorkflowExecutionTimeout)
	}
	if opts.WorkflowRunTimeout > 0 {
		req.WorkflowRunTimeout = durationpb.New(opts.WorkflowRunTimeout)
	}
	if opts.StartDelay > 0 {
		req.WorkflowStartDelay = durationpb.New(opts.StartDelay)
	}
	if len(opts.Memo) > 0 {
		req.Memo = &commonpb.Memo{Fields: map[string]*commonpb.Payload{}}
		for k, v := range opts.Memo {
			if req.Memo.Fields[k], err = dc.ToPayload(v); err != nil {
				return "", false, err
			}
		}
	}
	resp, err := s.opts.Client.WorkflowService().SignalWithStartWorkflowExecution(ctx, req)
	if err != nil {
		return "", false, refusedStart("signal-with-start", opts.ID, err)
	}
	return resp.GetRunId(), resp.GetStarted(), nil
}

// namespace is the namespace that raw service calls name.
func (s *Server) namespace() string {
	if s.opts.Namespace == "" {
		return client.DefaultNamespace // as the SDK's client does when none is configured
	}
	return s.opts.Namespace
}

// startWithSignal answers a start that carries a signal. With an Idempotency-Key, a run that this
// key started answers as a replay (200, or 422 for a different request), as a plain start does.
func (s *Server) startWithSignal(ctx, reqCtx context.Context, body *gen.StartWorkflowRequest, opts client.StartWorkflowOptions,
	args []any, idem *idempotencyRecord, wait time.Duration, minimal bool) (gen.StartWorkflowResponseObject, error) {
	runID, started, err := s.signalWithStart(ctx, body, opts, args, idem)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if idem != nil && (errors.As(err, &already) || (err == nil && !started)) {
		if already != nil {
			runID = already.RunId
		}
		resp, matched, replayErr := s.replay(ctx, *idem, opts.ID, runID)
		if replayErr != nil || matched {
			return s.finishReplay(reqCtx, resp, wait, replayErr)
		}
	}
	if err != nil {
		return nil, err
	}
	if started && wait == 0 && minimal {
		return startedMinimal{location: locationOf(opts.ID, runID)}, nil
	}
	exec, err := s.read(ctx, opts.ID, runID)
	if err != nil {
		return nil, err
	}
	if exec, err = s.awaitClose(reqCtx, exec, wait); err != nil {
		return nil, err
	}
	return startAnswer(exec, started), nil
}

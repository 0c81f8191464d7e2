package executions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
)

// SDK is Client over the SDK's client, which must have been made with ClientOptions.
//
// It starts through the SDK's ExecuteWorkflow and SignalWithStartWorkflow, so that the client's
// interceptors (tracing), data converter and retries apply as to any start. Two things the SDK
// does not offer are added on the wire by the gRPC interceptor of ClientOptions: the request id
// (the SDK makes a new one per call, so a retried HTTP request could never be recognised by
// Temporal as a repeat) with extra header fields, and whether the call started a run (the
// SDK's WorkflowRun does not tell, and a 201 and a 200 differ by exactly that).
type SDK struct {
	client.Client
}

var _ Client = (*SDK)(nil)

// NewSDK wraps c, made with ClientOptions.
func NewSDK(c client.Client) *SDK { return &SDK{Client: c} }

// ClientOptions adds to opts what SDK needs of the client's connection: every client that SDK
// wraps must be made with them.
func ClientOptions(opts client.Options) client.Options {
	opts.ConnectionOptions.DialOptions = append(append([]grpc.DialOption(nil), opts.ConnectionOptions.DialOptions...),
		grpc.WithChainUnaryInterceptor(shapeStart))
	return opts
}

// errUnshaped means a start went out without passing shapeStart: the client was not made with
// ClientOptions, and what the start did is unknown.
var errUnshaped = errors.New("start not seen on the wire: the Temporal client was not made with executions.ClientOptions")

// Start implements Client.
func (s *SDK) Start(ctx context.Context, call StartCall) (StartAnswer, error) {
	shape := &startShape{requestID: call.RequestID, header: call.Header}
	ctx = context.WithValue(ctx, startShapeKey{}, shape)
	if call.Update != nil {
		return s.updateWithStart(ctx, call, shape)
	}
	var run client.WorkflowRun
	var err error
	if call.Signal != nil {
		run, err = s.Client.SignalWithStartWorkflow(ctx, call.Options.ID, call.Signal.Name, call.Signal.Arg,
			call.Options, call.WorkflowType, call.Args...)
	} else {
		run, err = s.Client.ExecuteWorkflow(ctx, call.Options, call.WorkflowType, call.Args...)
	}
	if err != nil {
		return StartAnswer{}, err
	}
	if !shape.answered {
		return StartAnswer{}, fmt.Errorf("start workflow %q: %w", call.Options.ID, errUnshaped)
	}
	return StartAnswer{RunID: run.GetRunID(), Started: shape.started, Status: shape.status}, nil
}

// updateWithStart is Start for an update-with-start: one multi-operation, which the SDK repeats
// until the update is durable (admitted), then waits for the update's outcome by polling it.
// Once Temporal has answered the start, the run exists, started or found, whatever befalls the
// update after: the answer says so, with the update's outcome or the error that stands for it. The
// start's request id is always the gateway's own (a new one without a key), so that an answer lost
// on the way, which the SDK's gRPC retry makes up for, can be looked up (startedByLostAttempt).
func (s *SDK) updateWithStart(ctx context.Context, call StartCall, shape *startShape) (StartAnswer, error) {
	if shape.requestID == "" {
		// Known to the gateway, so that a lost answer can be looked up (startedByLostAttempt).
		shape.requestID = uuid.NewString()
	}
	op := s.Client.NewWithStartWorkflowOperation(call.Options, call.WorkflowType, call.Args...)
	var args []any
	if call.Update.Arg != nil {
		args = []any{call.Update.Arg}
	}
	handle, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID: call.Update.ID, UpdateName: call.Update.Name, Args: args,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	update := &UpdateAnswer{}
	if err == nil {
		err = handle.Get(ctx, &update.Result)
	}
	if !shape.answered {
		if err == nil {
			err = errUnshaped
		}
		return StartAnswer{}, fmt.Errorf("update-with-start workflow %q: %w", call.Options.ID, err)
	}
	update.Err = err
	started := shape.started || (shape.lostAnswer && s.startedByLostAttempt(ctx, call.Options.ID, shape))
	return StartAnswer{RunID: shape.runID, Started: started, Status: shape.status, Update: update}, nil
}

// startedByLostAttempt says whether an attempt of the multi-operation whose answer was lost (the
// SDK's gRPC retry sent it again) started the run. Temporal answers the repeat, which it
// recognises by its request id, as not started; the run's request ids tell the truth.
func (s *SDK) startedByLostAttempt(ctx context.Context, workflowID string, shape *startShape) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lostAnswerLookup)
	defer cancel()
	desc, err := s.Client.DescribeWorkflowExecution(ctx, workflowID, shape.runID)
	info := desc.GetWorkflowExtendedInfo().GetRequestIdInfos()[shape.requestID]
	return err == nil && info.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
}

// lostAnswerLookup bounds the read of startedByLostAttempt, which runs even when the request's own
// time is up: the update is done, and the answer should be true.
const lostAnswerLookup = 3 * time.Second

// GetWorkflowExecutionHistory implements Client with the raw service call.
func (s *SDK) GetWorkflowExecutionHistory(ctx context.Context, request *workflowservice.GetWorkflowExecutionHistoryRequest) (*workflowservice.GetWorkflowExecutionHistoryResponse, error) {
	return s.Client.WorkflowService().GetWorkflowExecutionHistory(ctx, request)
}

// startShape carries a start's request id and header fields to the wire, and its answer back.
// The SDK makes the gRPC call on the caller's goroutine, so no lock is needed.
type startShape struct {
	requestID string
	header    map[string]*commonpb.Payload

	answered bool
	started  bool
	status   enumspb.WorkflowExecutionStatus
	// runID is the run an update-with-start named (the SDK's handle does not tell).
	runID string
	// lostAnswer says that an attempt of an update-with-start failed before the one answered.
	lostAnswer bool
}

type startShapeKey struct{}

// shapeStart is the gRPC interceptor of ClientOptions: it completes the start requests that SDK
// sends and reads their answers. Every other call passes untouched.
func shapeStart(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	shape, _ := ctx.Value(startShapeKey{}).(*startShape)
	if shape == nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	switch r := req.(type) {
	case *workflowservice.StartWorkflowExecutionRequest:
		shape.apply(&r.RequestId, &r.Header)
	case *workflowservice.SignalWithStartWorkflowExecutionRequest:
		shape.apply(&r.RequestId, &r.Header)
	case *workflowservice.ExecuteMultiOperationRequest:
		for _, op := range r.GetOperations() {
			if start := op.GetStartWorkflow(); start != nil {
				shape.apply(&start.RequestId, &start.Header)
			}
		}
	default:
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	if err := invoker(ctx, method, req, reply, cc, opts...); err != nil {
		if _, multi := req.(*workflowservice.ExecuteMultiOperationRequest); multi && !shape.answered {
			shape.lostAnswer = true
		}
		return err
	}
	switch r := reply.(type) {
	case *workflowservice.StartWorkflowExecutionResponse:
		shape.answered, shape.started, shape.status = true, r.GetStarted(), r.GetStatus()
	case *workflowservice.SignalWithStartWorkflowExecutionResponse:
		shape.answered, shape.started = true, r.GetStarted()
	case *workflowservice.ExecuteMultiOperationResponse:
		// The SDK repeats the operation, under the same request id, until the update is durable
		// (and its gRPC retry repeats an attempt whose answer was lost): the first answer says
		// whether the start began the run. A repeat that finds the run says it did not, which is
		// about the repeat.
		for _, op := range r.GetResponses() {
			if start := op.GetStartWorkflow(); start != nil && !shape.answered {
				shape.answered, shape.started, shape.status, shape.runID = true, start.GetStarted(), start.GetStatus(), start.GetRunId()
			}
		}
	}
	return nil
}

func (s *startShape) apply(requestID *string, header **commonpb.Header) {
	if s.requestID != "" {
		*requestID = s.requestID
	}
	if len(s.header) == 0 {
		return
	}
	if *header == nil {
		*header = &commonpb.Header{}
	}
	if (*header).Fields == nil {
		(*header).Fields = make(map[string]*commonpb.Payload, len(s.header))
	}
	for k, v := range s.header {
		(*header).Fields[k] = v
	}
}

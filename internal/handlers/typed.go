package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/temporalhttp/gateway/internal/gen"
)

// The typed operations (POST /money-transfers, GET /approvals/{workflowId} and so on) are the
// generic ones with the workflow type fixed by the path: each hands its request to its generic
// twin, so every behaviour of that twin (wait, Idempotency-Key, conflict policies, ETag and
// caching, problems, scopes) is theirs too. What they add: the type is not the caller's to choose,
// a typed input is checked before the body is decoded (typedInputCheck, so that a bad input gets
// the generic start's 422), Location names the typed resource, and an execution of another type
// answers 404. The JSON they answer is their twin's; only the contract names its shape.

// Names of the hosted workflow types and of their handlers, as the contract's typed paths fix them.
const (
	typeGreeting      = "Greeting"
	typeEcho          = "Echo"
	typeSleep         = "Sleep"
	typeMoneyTransfer = "MoneyTransfer"
	typeCronCounter   = "CronCounter"
	typeApproval      = "Approval"

	approvalDecisionSignal = "decision"
	approvalStatusQuery    = "status"
	approvalApproveUpdate  = "approve"
)

// typedAnswer writes the answer of a typed operation; it is every typed operation's response type.
type typedAnswer func(http.ResponseWriter) error

// startTyped starts workflowType, on this deployment's own task queue, through StartWorkflow.
// body is the typed request, whose fields are StartWorkflowRequest's but for the type.
func (s *Server) startTyped(ctx context.Context, workflowType, resource string, body any, params gen.StartWorkflowParams) (typedAnswer, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode a %s start: %w", workflowType, err)
	}
	var generic gen.StartWorkflowRequest
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, fmt.Errorf("decode a %s start: %w", workflowType, err)
	}
	generic.WorkflowType = workflowType
	resp, err := s.StartWorkflow(ctx, gen.StartWorkflowRequestObject{Params: params, Body: &generic})
	if err != nil {
		return nil, err
	}
	switch r := resp.(type) {
	case gen.StartWorkflow201JSONResponse:
		r.Headers.Location = underResource(r.Headers.Location, resource)
		return r.VisitStartWorkflowResponse, nil
	case gen.StartWorkflow200JSONResponse:
		r.Headers.Location = underResource(r.Headers.Location, resource)
		return r.VisitStartWorkflowResponse, nil
	case startedMinimal:
		r.location = underResource(r.location, resource)
		return r.VisitStartWorkflowResponse, nil
	}
	return resp.VisitStartWorkflowResponse, nil
}

// underResource moves the Location of an execution from /workflows to the typed resource.
func underResource(location, resource string) string {
	if rest, ok := strings.CutPrefix(location, "/workflows/"); ok {
		return resource + "/" + rest
	}
	return location
}

// getTyped reads an execution of workflowType through the generic read, and answers 404 for an
// execution of another type, before it waits and before an ETag can match.
func (s *Server) getTyped(ctx context.Context, workflowType, workflowID string, params gen.GetWorkflowParams) (typedAnswer, error) {
	if params.Wait != nil {
		// A wait on an execution of another type would end in a 404 only when that run closed.
		if _, err := s.describeTyped(ctx, workflowType, workflowID, deref(params.RunId)); err != nil {
			return nil, err
		}
	}
	resp, err := s.read(ctx, workflowID, params, workflowType)
	if err != nil {
		return nil, err
	}
	return resp.VisitGetWorkflowResponse, nil
}

// describeTyped reads the run that a typed signal, query or update is for, and refuses it when
// it is of another type; the operation then names the run it read, so that it reaches that one.
func (s *Server) describeTyped(ctx context.Context, workflowType, workflowID, runID string) (string, error) {
	exec, err := s.core.Describe(ctx, workflowID, runID)
	if err != nil {
		return "", err
	}
	if exec.WorkflowType != workflowType {
		return "", wrongType(workflowType)
	}
	return exec.RunID, nil
}

// wrongType answers a typed operation on an execution of another type: to that resource, no
// such execution exists.
func wrongType(workflowType string) error {
	return newProblem(http.StatusNotFound, problemNotFound, "Not found",
		fmt.Sprintf("No %s has this workflow id: the execution is of another workflow type.", workflowType))
}

// jsonAnswer writes a handler's JSON result as it came, with 200.
func jsonAnswer(body json.RawMessage) typedAnswer {
	return func(w http.ResponseWriter) error {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(body)
		return err
	}
}

func startParams(wait *gen.Wait, key *gen.IdempotencyKey, prefer *gen.Prefer) gen.StartWorkflowParams {
	return gen.StartWorkflowParams{Wait: wait, IdempotencyKey: key, Prefer: prefer}
}

func getParams(runID *gen.RunIdQuery, wait *gen.Wait, inm *gen.IfNoneMatch) gen.GetWorkflowParams {
	return gen.GetWorkflowParams{RunId: runID, Wait: wait, IfNoneMatch: inm}
}

// StartGreeting starts a Greeting.
func (s *Server) StartGreeting(ctx context.Context, req gen.StartGreetingRequestObject) (gen.StartGreetingResponseObject, error) {
	return s.startTyped(ctx, typeGreeting, "/greetings", req.Body, startParams(req.Params.Wait, req.Params.IdempotencyKey, req.Params.Prefer))
}

// GetGreeting reads a Greeting.
func (s *Server) GetGreeting(ctx context.Context, req gen.GetGreetingRequestObject) (gen.GetGreetingResponseObject, error) {
	return s.getTyped(ctx, typeGreeting, req.WorkflowId, getParams(req.Params.RunId, req.Params.Wait, req.Params.IfNoneMatch))
}

// StartEcho starts an Echo.
func (s *Server) StartEcho(ctx context.Context, req gen.StartEchoRequestObject) (gen.StartEchoResponseObject, error) {
	return s.startTyped(ctx, typeEcho, "/echoes", req.Body, startParams(req.Params.Wait, req.Params.IdempotencyKey, req.Params.Prefer))
}

// GetEcho reads an Echo.
func (s *Server) GetEcho(ctx context.Context, req gen.GetEchoRequestObject) (gen.GetEchoResponseObject, error) {
	return s.getTyped(ctx, typeEcho, req.WorkflowId, getParams(req.Params.RunId, req.Params.Wait, req.Params.IfNoneMatch))
}

// StartSleep starts a Sleep.
func (s *Server) StartSleep(ctx context.Context, req gen.StartSleepRequestObject) (gen.StartSleepResponseObject, error) {
	return s.startTyped(ctx, typeSleep, "/sleeps", req.Body, startParams(req.Params.Wait, req.Params.IdempotencyKey, req.Params.Prefer))
}

// GetSleep reads a Sleep.
func (s *Server) GetSleep(ctx context.Context, req gen.GetSleepRequestObject) (gen.GetSleepResponseObject, error) {
	return s.getTyped(ctx, typeSleep, req.WorkflowId, getParams(req.Params.RunId, req.Params.Wait, req.Params.IfNoneMatch))
}

// StartMoneyTransfer starts a MoneyTransfer.
func (s *Server) StartMoneyTransfer(ctx context.Context, req gen.StartMoneyTransferRequestObject) (gen.StartMoneyTransferResponseObject, error) {
	return s.startTyped(ctx, typeMoneyTransfer, "/money-transfers", req.Body, startParams(req.Params.Wait, req.Params.IdempotencyKey, req.Params.Prefer))
}

// GetMoneyTransfer reads a MoneyTransfer.
func (s *Server) GetMoneyTransfer(ctx context.Context, req gen.GetMoneyTransferRequestObject) (gen.GetMoneyTransferResponseObject, error) {
	return s.getTyped(ctx, typeMoneyTransfer, req.WorkflowId, getParams(req.Params.RunId, req.Params.Wait, req.Params.IfNoneMatch))
}

// StartCronCounter starts a CronCounter.
func (s *Server) StartCronCounter(ctx context.Context, req gen.StartCronCounterRequestObject) (gen.StartCronCounterResponseObject, error) {
	return s.startTyped(ctx, typeCronCounter, "/cron-counters", req.Body, startParams(req.Params.Wait, req.Params.IdempotencyKey, req.Params.Prefer))
}

// GetCronCounter reads a CronCounter.
func (s *Server) GetCronCounter(ctx context.Context, req gen.GetCronCounterRequestObject) (gen.GetCronCounterResponseObject, error) {
	return s.getTyped(ctx, typeCronCounter, req.WorkflowId, getParams(req.Params.RunId, req.Params.Wait, req.Params.IfNoneMatch))
}

// StartApproval starts an Approval.
func (s *Server) StartApproval(ctx context.Context, req gen.StartApprovalRequestObject) (gen.StartApprovalResponseObject, error) {
	return s.startTyped(ctx, typeApproval, "/approvals", req.Body, startParams(req.Params.Wait, req.Params.IdempotencyKey, req.Params.Prefer))
}

// GetApproval reads an Approval.
func (s *Server) GetApproval(ctx context.Context, req gen.GetApprovalRequestObject) (gen.GetApprovalResponseObject, error) {
	return s.getTyped(ctx, typeApproval, req.WorkflowId, getParams(req.Params.RunId, req.Params.Wait, req.Params.IfNoneMatch))
}

// DecideApproval sends an Approval its decision signal.
func (s *Server) DecideApproval(ctx context.Context, req gen.DecideApprovalRequestObject) (gen.DecideApprovalResponseObject, error) {
	body := deref(req.Body)
	runID, err := s.describeTyped(ctx, typeApproval, req.WorkflowId, deref(body.RunId))
	if err != nil {
		return nil, err
	}
	input, err := json.Marshal(body.Input)
	if err != nil {
		return nil, fmt.Errorf("encode a decision: %w", err)
	}
	if err := s.core.Signal(ctx, req.WorkflowId, runID, approvalDecisionSignal, input); err != nil {
		return nil, err
	}
	return gen.DecideApproval202Response{}, nil
}

// GetApprovalStatus runs an Approval's status query.
func (s *Server) GetApprovalStatus(ctx context.Context, req gen.GetApprovalStatusRequestObject) (gen.GetApprovalStatusResponseObject, error) {
	runID, err := s.describeTyped(ctx, typeApproval, req.WorkflowId, deref(req.Params.RunId))
	if err != nil {
		return nil, err
	}
	result, err := s.core.Query(ctx, req.WorkflowId, runID, approvalStatusQuery, nil)
	if err != nil {
		return nil, err
	}
	return jsonAnswer(result), nil
}

// ApproveApproval runs an Approval's approve update.
func (s *Server) ApproveApproval(ctx context.Context, req gen.ApproveApprovalRequestObject) (gen.ApproveApprovalResponseObject, error) {
	body := deref(req.Body)
	runID, err := s.describeTyped(ctx, typeApproval, req.WorkflowId, deref(body.RunId))
	if err != nil {
		return nil, err
	}
	input := json.RawMessage("{}")
	if body.Input != nil {
		if input, err = json.Marshal(body.Input); err != nil {
			return nil, fmt.Errorf("encode an approval: %w", err)
		}
	}
	id, result, err := s.core.Update(ctx, req.WorkflowId, runID, approvalApproveUpdate, deref(body.UpdateId), input)
	if err != nil {
		return nil, err
	}
	return typedAnswer(gen.UpdateWorkflow200JSONResponse{UpdateId: id, Result: result}.VisitUpdateWorkflowResponse), nil
}

// typedAnswer is the response of every typed operation.
func (a typedAnswer) VisitStartGreetingResponse(w http.ResponseWriter) error      { return a(w) }
func (a typedAnswer) VisitGetGreetingResponse(w http.ResponseWriter) error        { return a(w) }
func (a typedAnswer) VisitStartEchoResponse(w http.ResponseWriter) error          { return a(w) }
func (a typedAnswer) VisitGetEchoResponse(w http.ResponseWriter) error            { return a(w) }
func (a typedAnswer) VisitStartSleepResponse(w http.ResponseWriter) error         { return a(w) }
func (a typedAnswer) VisitGetSleepResponse(w http.ResponseWriter) error           { return a(w) }
func (a typedAnswer) VisitStartMoneyTransferResponse(w http.ResponseWriter) error { return a(w) }
func (a typedAnswer) VisitGetMoneyTransferResponse(w http.ResponseWriter) error   { return a(w) }
func (a typedAnswer) VisitStartCronCounterResponse(w http.ResponseWriter) error   { return a(w) }
func (a typedAnswer) VisitGetCronCounterResponse(w http.ResponseWriter) error     { return a(w) }
func (a typedAnswer) VisitStartApprovalResponse(w http.ResponseWriter) error      { return a(w) }
func (a typedAnswer) VisitGetApprovalResponse(w http.ResponseWriter) error        { return a(w) }
func (a typedAnswer) VisitDecideApprovalResponse(w http.ResponseWriter) error     { return a(w) }
func (a typedAnswer) VisitGetApprovalStatusResponse(w http.ResponseWriter) error  { return a(w) }
func (a typedAnswer) VisitApproveApprovalResponse(w http.ResponseWriter) error    { return a(w) }

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
//
// The methods of the typed operations are generated from the contract (typed.gen.go, by
// typedgen): each is a call of one of the functions here.

//go:generate go run ./typedgen ../../api/openapi.yaml typed.gen.go

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
	resp, err := s.start(ctx, gen.StartWorkflowRequestObject{Params: params, Body: &generic}, true)
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

// signalTyped sends the signal name of an execution of workflowType, with input as its argument.
func (s *Server) signalTyped(ctx context.Context, workflowType, name, workflowID, runID string, input any) (typedAnswer, error) {
	runID, arg, err := s.typedAct(ctx, workflowType, workflowID, runID, input)
	if err != nil {
		return nil, err
	}
	if err := s.core.Signal(ctx, workflowID, runID, name, arg); err != nil {
		return nil, err
	}
	return typedAnswer(gen.SignalWorkflow202Response{}.VisitSignalWorkflowResponse), nil
}

// queryTyped runs the query name of an execution of workflowType and answers its result as it came.
func (s *Server) queryTyped(ctx context.Context, workflowType, name, workflowID, runID string) (typedAnswer, error) {
	runID, err := s.describeTyped(ctx, workflowType, workflowID, runID)
	if err != nil {
		return nil, err
	}
	result, err := s.core.Query(ctx, workflowID, runID, name, nil)
	if err != nil {
		return nil, err
	}
	return jsonAnswer(result), nil
}

// updateTyped runs the update name of an execution of workflowType, with input as its argument.
func (s *Server) updateTyped(ctx context.Context, workflowType, name, workflowID, runID, updateID string, input any) (typedAnswer, error) {
	runID, arg, err := s.typedAct(ctx, workflowType, workflowID, runID, input)
	if err != nil {
		return nil, err
	}
	id, result, err := s.core.Update(ctx, workflowID, runID, name, updateID, arg)
	if err != nil {
		return nil, err
	}
	return typedAnswer(gen.UpdateWorkflow200JSONResponse{Body: gen.UpdateResponse{UpdateId: id, Result: result}}.VisitUpdateWorkflowResponse), nil
}

// typedAct prepares a typed signal or update: the run of workflowType it is for, and the JSON of
// its input as the argument (none when the request had none).
func (s *Server) typedAct(ctx context.Context, workflowType, workflowID, runID string, input any) (string, json.RawMessage, error) {
	runID, err := s.describeTyped(ctx, workflowType, workflowID, runID)
	if err != nil {
		return "", nil, err
	}
	b, err := json.Marshal(input)
	if err != nil {
		return "", nil, fmt.Errorf("encode an argument: %w", err)
	}
	if string(b) == "null" {
		return runID, nil, nil
	}
	return runID, b, nil
}

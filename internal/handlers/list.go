package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"

	"github.com/temporalhttp/gateway/internal/gen"
)

// namespace is the namespace that raw service calls name.
func (s *Server) namespace() string {
	if s.opts.Namespace == "" {
		return client.DefaultNamespace // as the SDK's client does when none is configured
	}
	return s.opts.Namespace
}

// defaultPageSize is the page size of a list or a history page when the request names none.
const defaultPageSize = 100

// visibilityStatus is how Temporal's visibility query language names each status.
var visibilityStatus = map[gen.ExecutionStatus]string{
	gen.ExecutionStatusRUNNING:        "Running",
	gen.ExecutionStatusCOMPLETED:      "Completed",
	gen.ExecutionStatusFAILED:         "Failed",
	gen.ExecutionStatusCANCELED:       "Canceled",
	gen.ExecutionStatusTERMINATED:     "Terminated",
	gen.ExecutionStatusCONTINUEDASNEW: "ContinuedAsNew",
	gen.ExecutionStatusTIMEDOUT:       "TimedOut",
}

// ListWorkflows lists executions from Temporal's visibility store, filtered by the whitelisted
// parameters only.
func (s *Server) ListWorkflows(ctx context.Context, req gen.ListWorkflowsRequestObject) (gen.ListWorkflowsResponseObject, error) {
	query, err := visibilityQuery(req.Params)
	if err != nil {
		return nil, err
	}
	scope := "list\x00" + query
	token, err := decodePageToken(scope, req.Params.PageToken)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	resp, err := s.opts.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:         query,
		PageSize:      pageSize(req.Params.PageSize),
		NextPageToken: token,
	})
	if err != nil {
		if token != nil && rejectedToken(err) {
			return nil, badPageToken()
		}
		return nil, fmt.Errorf("list workflows where %q: %w", query, err)
	}
	list := gen.ListWorkflows200JSONResponse{
		Executions:    make([]gen.Execution, 0, len(resp.GetExecutions())),
		NextPageToken: encodePageToken(scope, resp.GetNextPageToken()),
	}
	for _, info := range resp.GetExecutions() {
		exec, err := executionFromInfo(info)
		if err != nil {
			return nil, fmt.Errorf("list workflows: %w", err)
		}
		list.Executions = append(list.Executions, exec)
	}
	return list, nil
}

// visibilityQuery builds the visibility query of a list request. Every value is either chosen
// from a fixed set or quoted by visibilityString, so no parameter can change the query's shape.
func visibilityQuery(p gen.ListWorkflowsParams) (string, error) {
	var terms []string
	if p.Status != nil {
		status, ok := visibilityStatus[*p.Status]
		if !ok {
			return "", validationProblem(gen.FieldError{In: gen.FieldErrorInQuery, Field: "status", Message: "is not a known status"})
		}
		terms = append(terms, "ExecutionStatus = '"+status+"'")
	}
	if p.WorkflowType != nil {
		terms = append(terms, "WorkflowType = "+visibilityString(*p.WorkflowType))
	}
	if p.StartedAfter != nil {
		terms = append(terms, "StartTime > "+visibilityString(p.StartedAfter.UTC().Format(time.RFC3339Nano)))
	}
	if p.StartedBefore != nil {
		terms = append(terms, "StartTime < "+visibilityString(p.StartedBefore.UTC().Format(time.RFC3339Nano)))
	}
	return strings.Join(terms, " AND "), nil
}

// visibilityString quotes s as a string literal of the visibility query language, whose parser
// reads a backslash as an escape inside quotes.
func visibilityString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// GetWorkflowHistory answers one page of a run's history events.
func (s *Server) GetWorkflowHistory(ctx context.Context, req gen.GetWorkflowHistoryRequestObject) (gen.GetWorkflowHistoryResponseObject, error) {
	scope := "history\x00" + req.WorkflowId
	token, err := decodePageToken(scope, req.Params.PageToken)
	if err != nil {
		return nil, err
	}
	runID := deref(req.Params.RunId)
	namespace := s.namespace()
	ctx, cancel := context.WithTimeout(ctx, s.opts.TemporalTimeout)
	defer cancel()
	// The raw service call, not the SDK's history iterator: only it hands out the page token.
	resp, err := s.opts.Client.WorkflowService().GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace:              namespace,
		Execution:              &commonpb.WorkflowExecution{WorkflowId: req.WorkflowId, RunId: runID},
		MaximumPageSize:        pageSize(req.Params.PageSize),
		NextPageToken:          token,
		HistoryEventFilterType: enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT,
	})
	if err != nil {
		if token != nil && rejectedToken(err) {
			return nil, badPageToken()
		}
		return nil, &executionError{"read history of", req.WorkflowId, runID, err}
	}
	events := resp.GetHistory().GetEvents()
	page := gen.GetWorkflowHistory200JSONResponse{
		Events:        make([]json.RawMessage, len(events)),
		NextPageToken: encodePageToken(scope, resp.GetNextPageToken()),
	}
	for i, event := range events {
		// Temporal's own JSON form of its protos: the form its CLI and UI read and write.
		b, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(event)
		if err != nil {
			return nil, &executionError{"render history event of", req.WorkflowId, runID, err}
		}
		page.Events[i] = b
	}
	return page, nil
}

func pageSize(p *int) int32 {
	if p == nil {
		return defaultPageSize
	}
	// The spec bounds it to 1..1000; the conversion cannot overflow.
	return int32(*p)
}

// A page token is Temporal's, behind a short checksum of the token and of the listing it pages
// through, as base64url: clients treat it as an opaque string and can put it in a query string
// as it is. The checksum is no secret; it turns away a token that a client made up, mangled or
// took from another listing before it reaches Temporal, whose visibility store answers some such
// tokens only after the SDK has retried them until the deadline.
const tokenSumSize = 8

func tokenSum(scope string, token []byte) []byte {
	h := sha256.New()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write(token)
	return h.Sum(nil)[:tokenSumSize]
}

func encodePageToken(scope string, token []byte) *string {
	if len(token) == 0 {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString(append(tokenSum(scope, token), token...))
	return &s
}

func decodePageToken(scope string, s *string) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*s)
	if err != nil || len(b) <= tokenSumSize {
		return nil, badPageToken()
	}
	sum, token := b[:tokenSumSize], b[tokenSumSize:]
	if !bytes.Equal(sum, tokenSum(scope, token)) {
		return nil, badPageToken()
	}
	return token, nil
}

func badPageToken() *problemError {
	return validationProblem(gen.FieldError{In: gen.FieldErrorInQuery, Field: "pageToken",
		Message: "is not a token that this listing handed out; pass nextPageToken back as it is, with the same filters"})
}

// rejectedToken says whether Temporal refused a request that carried a page token as invalid.
// The rest of such a request was accepted when it fetched the page before (a token comes only
// from an answer), so the token is what a client changed.
func rejectedToken(err error) bool {
	return serviceerror.ToStatus(err).Code() == codes.InvalidArgument
}

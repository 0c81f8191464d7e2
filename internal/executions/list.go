package executions

import (
	"context"
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

	"github.com/temporalhttp/gateway/internal/pagetoken"
)

// ListFilter is what a list asks for; every field set must hold (AND). Only these fields can be
// asked for: no visibility query of a caller's reaches Temporal.
type ListFilter struct {
	Status        Status // empty: any
	WorkflowType  string // empty: any
	StartedAfter  *time.Time
	StartedBefore *time.Time
	// ScheduleID keeps the executions that this schedule started (Temporal's
	// TemporalScheduledById); empty: any.
	ScheduleID string
}

// visibilityStatus is how Temporal's visibility query language names each status.
var visibilityStatus = map[Status]string{
	StatusRunning:        "Running",
	StatusCompleted:      "Completed",
	StatusFailed:         "Failed",
	StatusCanceled:       "Canceled",
	StatusTerminated:     "Terminated",
	StatusContinuedAsNew: "ContinuedAsNew",
	StatusTimedOut:       "TimedOut",
}

// query is the visibility query of f. Every value is either chosen from a fixed set or quoted by
// visibilityString, so that no filter can change the query's shape.
func (f ListFilter) query() (string, error) {
	var terms []string
	if f.Status != "" {
		status, ok := visibilityStatus[f.Status]
		if !ok {
			return "", fmt.Errorf("list: unknown status %q", f.Status)
		}
		terms = append(terms, "ExecutionStatus = '"+status+"'")
	}
	if f.WorkflowType != "" {
		terms = append(terms, "WorkflowType = "+visibilityString(f.WorkflowType))
	}
	if f.ScheduleID != "" {
		terms = append(terms, "TemporalScheduledById = "+visibilityString(f.ScheduleID))
	}
	if f.StartedAfter != nil {
		terms = append(terms, "StartTime > "+visibilityString(f.StartedAfter.UTC().Format(time.RFC3339Nano)))
	}
	if f.StartedBefore != nil {
		terms = append(terms, "StartTime < "+visibilityString(f.StartedBefore.UTC().Format(time.RFC3339Nano)))
	}
	return strings.Join(terms, " AND "), nil
}

// visibilityString quotes s as a string literal of the visibility query language, whose parser
// reads a backslash as an escape inside quotes.
func visibilityString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// ErrBadPageToken says that a page token is not one this listing handed out.
var ErrBadPageToken = pagetoken.ErrBad

// List answers one page of executions from Temporal's visibility store, newest first, and the
// token of the next page ("" after the last).
func (s *Service) List(ctx context.Context, f ListFilter, pageSize int32, pageToken string) ([]Execution, string, error) {
	query, err := f.query()
	if err != nil {
		return nil, "", err
	}
	scope := "list\x00" + query
	token, err := pagetoken.Decode(scope, pageToken)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: query, PageSize: pageSize, NextPageToken: token,
	})
	if err != nil {
		if token != nil && rejectedToken(err) {
			return nil, "", ErrBadPageToken
		}
		return nil, "", fmt.Errorf("list workflows where %q: %w", query, err)
	}
	list := make([]Execution, 0, len(resp.GetExecutions()))
	for _, info := range resp.GetExecutions() {
		exec, err := fromInfo(info)
		if err != nil {
			return nil, "", fmt.Errorf("list workflows: %w", err)
		}
		list = append(list, exec)
	}
	return list, pagetoken.Encode(scope, resp.GetNextPageToken()), nil
}

// History answers one page of a run's history events, each in Temporal's own JSON form of its
// protos (the form its CLI and UI read and write), and the token of the next page.
func (s *Service) History(ctx context.Context, workflowID, runID string, pageSize int32, pageToken string) ([]json.RawMessage, string, error) {
	scope := "history\x00" + workflowID
	token, err := pagetoken.Decode(scope, pageToken)
	if err != nil {
		return nil, "", err
	}
	namespace := s.opts.Namespace
	if namespace == "" {
		namespace = client.DefaultNamespace // as the SDK's client does when none is configured
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	// The raw service call, not the SDK's history iterator: only it hands out the page token.
	resp, err := s.client.GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace:              namespace,
		Execution:              &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: runID},
		MaximumPageSize:        pageSize,
		NextPageToken:          token,
		HistoryEventFilterType: enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT,
	})
	if err != nil {
		if token != nil && rejectedToken(err) {
			return nil, "", ErrBadPageToken
		}
		return nil, "", &Error{"read history of", workflowID, runID, err}
	}
	events := resp.GetHistory().GetEvents()
	page := make([]json.RawMessage, len(events))
	for i, event := range events {
		b, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(event)
		if err != nil {
			return nil, "", &Error{"render history event of", workflowID, runID, err}
		}
		page[i] = b
	}
	return page, pagetoken.Encode(scope, resp.GetNextPageToken()), nil
}

// rejectedToken says whether Temporal refused a request that carried a page token as invalid.
// The rest of such a request was accepted when it fetched the page before (a token comes only
// from an answer), so the token is what a client changed.
func rejectedToken(err error) bool {
	return serviceerror.ToStatus(err).Code() == codes.InvalidArgument
}

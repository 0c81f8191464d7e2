package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
)

// GetWorkflow reads an execution, waiting for it to close when asked to.
func (s *Server) GetWorkflow(ctx context.Context, req gen.GetWorkflowRequestObject) (gen.GetWorkflowResponseObject, error) {
	return s.read(ctx, req.WorkflowId, req.Params, "")
}

// read answers a read of an execution; with workflowType, one of another type answers 404.
func (s *Server) read(ctx context.Context, workflowID string, params gen.GetWorkflowParams, workflowType string) (gen.GetWorkflowResponseObject, error) {
	runID := deref(params.RunId)
	wait, slot, err := s.holdWait(ctx, params.Wait)
	if err != nil {
		return nil, err
	}
	defer slot.release()
	exec, err := s.core.Wait(ctx, workflowID, runID, wait)
	if err != nil {
		return nil, err
	}
	if workflowType != "" && exec.WorkflowType != workflowType {
		return nil, wrongType(workflowType)
	}
	body := executionBody(exec)
	tag, err := etag(body)
	if err != nil {
		return nil, err
	}
	// A closed run never changes: a URL naming it may be cached for good. Without a run id the
	// URL means "the latest run", which a new run can change.
	cacheControl := "no-cache"
	if runID != "" && !exec.Running() {
		cacheControl = "private, max-age=31536000, immutable"
	}
	if inm := params.IfNoneMatch; inm != nil && etagMatches(*inm, tag) {
		return gen.GetWorkflow304Response{Headers: gen.GetWorkflow304ResponseHeaders{CacheControl: cacheControl, ETag: tag}}, nil
	}
	return gen.GetWorkflow200JSONResponse{Body: body, Headers: gen.GetWorkflow200ResponseHeaders{CacheControl: cacheControl, ETag: tag}}, nil
}

// etag is a strong validator of the execution as answered: any change of it changes the tag.
func etag(exec gen.Execution) (string, error) {
	b, err := json.Marshal(exec)
	if err != nil {
		return "", fmt.Errorf("etag of %q: %w", exec.WorkflowId, err)
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`, nil
}

// etagMatches implements If-None-Match: a list of tags, or *, compared weakly (RFC 9110 13.1.2).
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// location is the URL of a run: where a start points its client, and what a read of it answers.
func location(exec executions.Execution) string { return locationOf(exec.WorkflowID, exec.RunID) }

func locationOf(workflowID, runID string) string {
	return "/workflows/" + url.PathEscape(workflowID) + "?runId=" + url.QueryEscape(runID)
}

package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/gen"
)

// idempotencyMemo is the memo field in which a start made with an Idempotency-Key records the key
// and the request. Keeping the record on the execution itself, in Temporal, is what makes a
// retried start safe across gateway restarts and replicas: no gateway holds it in memory.
const idempotencyMemo = "__gatewayIdempotency"

// idempotencyRecord is what the memo holds: hashes only, so that neither the key nor the
// request is stored in clear a second time.
type idempotencyRecord struct {
	Key     string `json:"key"`
	Request string `json:"request"`
}

func newIdempotencyRecord(key string, body *gen.StartWorkflowRequest) (idempotencyRecord, error) {
	// The request as decoded and encoded again, with the JSON values inside it in canonical form
	// too: the same fields and values give the same hash whatever the spacing or key order sent.
	c := *body
	var err error
	canon := func(v *json.RawMessage) *json.RawMessage {
		if v == nil || err != nil {
			return v
		}
		var out json.RawMessage
		out, err = canonicalJSON(*v)
		return &out
	}
	c.Input = canon(c.Input)
	if c.Signal != nil {
		sig := *c.Signal
		sig.Input = canon(sig.Input)
		c.Signal = &sig
	}
	if c.Memo != nil {
		memo := make(map[string]json.RawMessage, len(*c.Memo))
		for k, v := range *c.Memo {
			memo[k] = *canon(&v)
		}
		c.Memo = &memo
	}
	if err != nil {
		return idempotencyRecord{}, fmt.Errorf("fingerprint start request: %w", err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return idempotencyRecord{}, fmt.Errorf("fingerprint start request: %w", err)
	}
	return idempotencyRecord{Key: hashHex("key:" + key), Request: hashHex(string(b))}, nil
}

// canonicalJSON re-encodes a JSON value with object keys sorted; numbers keep their digits.
func canonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// workflowID is the id a start with this key but no workflowId gets: the same key always names
// the same execution.
func (r idempotencyRecord) workflowID() string {
	return "idem-" + r.Key[:32]
}

// applyTo records r on the start. When the key names the id (no workflowId) and the request
// chose no reuse policy, a second run of the id is refused, so that a retry after the first run
// closed finds it instead of starting anew.
func (r idempotencyRecord) applyTo(opts *client.StartWorkflowOptions, body *gen.StartWorkflowRequest) {
	if opts.Memo == nil {
		opts.Memo = map[string]any{}
	}
	opts.Memo[idempotencyMemo] = r
	if body.WorkflowId == nil && body.IdReusePolicy == nil {
		opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	}
}

// replay answers a start whose id is taken when the execution holding it was started with the
// same key: 200 with that execution for the same request, 422 for a different one. ok is false
// when the key does not match, and the start is a plain conflict.
func (s *Server) replay(ctx context.Context, r idempotencyRecord, workflowID, runID string) (gen.StartWorkflowResponseObject, bool, error) {
	resp, err := s.opts.Client.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return nil, false, &executionError{"describe", workflowID, runID, err}
	}
	var held idempotencyRecord
	payload := resp.GetWorkflowExecutionInfo().GetMemo().GetFields()[idempotencyMemo]
	if payload == nil || json.Unmarshal(payload.GetData(), &held) != nil || held.Key != r.Key {
		return nil, false, nil
	}
	if held.Request != r.Request {
		p := newProblem(http.StatusUnprocessableEntity, problemIdempotencyReused, "Idempotency key reused",
			"This Idempotency-Key started an execution for a different request; use a new key for a new request.")
		p.workflowID, p.runID = workflowID, resp.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		return nil, true, p
	}
	exec, err := s.read(ctx, workflowID, resp.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	if err != nil {
		return nil, true, err
	}
	return gen.StartWorkflow200JSONResponse{Body: exec, Headers: gen.StartWorkflow200ResponseHeaders{
		Location: location(exec), IdempotentReplayed: ptr(true),
	}}, true, nil
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

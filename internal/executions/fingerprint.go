package executions

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
)

// RecordField is where a start made with an Idempotency-Key records the key and the request: in
// the memo of a run it started, and in the header of a signal it delivered to a run that was
// already running. Keeping the record on Temporal's side is what makes a retried start safe across
// gateway restarts and replicas: no gateway holds it in memory.
const RecordField = "__gatewayIdempotency"

// record is what RecordField holds: hashes only, so that neither the key nor the request is
// stored in clear a second time.
type record struct {
	// Key is the caller's key, scoped to the caller: two callers who pick the same key string
	// never share a record.
	Key string `json:"key"`
	// Request is the fingerprint of the start specification.
	Request string `json:"request"`
}

// newRecord fingerprints spec, whose task queue is already resolved.
func newRecord(spec StartSpec) (record, error) {
	form, err := fingerprintFormOf(spec)
	if err != nil {
		return record{}, fmt.Errorf("fingerprint start request: %w", err)
	}
	b, err := json.Marshal(form)
	if err != nil {
		return record{}, fmt.Errorf("fingerprint start request: %w", err)
	}
	return record{Key: hashHex("key\x00" + spec.Caller + "\x00" + spec.Key), Request: hashHex(string(b))}, nil
}

// KeyIDPrefix begins the workflow ids that Idempotency-Keys name: no request may name one itself.
const KeyIDPrefix = "idem-"

// workflowID is the id of the run that a keyed start without a workflowId starts: the same
// caller's same key always names the same execution.
func (r record) workflowID() string { return KeyIDPrefix + r.Key[:32] }

// recordID is the id of the key's record execution (see keyed.go).
func (r record) recordID() string { return KeyIDPrefix + r.Key[:32] + ".record" }

// requestID is the request id under which Temporal deduplicates this very request: the same key
// and the same request, and nothing else, repeat it.
func (r record) requestID() string { return r.Key[:32] + "-" + r.Request[:32] }

func (r record) payload() (*commonpb.Payload, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: data}, nil
}

// recordIn reads the record a memo or a header holds, if any.
func recordIn(fields map[string]*commonpb.Payload) (record, bool) {
	p := fields[RecordField]
	if p == nil {
		return record{}, false
	}
	var r record
	if json.Unmarshal(p.GetData(), &r) != nil || r.Key == "" {
		return record{}, false
	}
	return r, true
}

// fingerprintForm is what a start's fingerprint covers: every field that changes what the start
// does, each in one canonical form, so that the same request fingerprints the same however it was
// spelled: defaults written out or left absent, `null` for no input, JSON keys in any order, the
// same duration written as 90s or 1m30s.
type fingerprintForm struct {
	WorkflowType     string                     `json:"type"`
	WorkflowID       string                     `json:"id,omitempty"`
	TaskQueue        string                     `json:"queue"`
	Input            json.RawMessage            `json:"input,omitempty"`
	Conflict         ConflictPolicy             `json:"conflict"`
	Reuse            ReusePolicy                `json:"reuse"`
	CronSchedule     string                     `json:"cron,omitempty"`
	Memo             map[string]json.RawMessage `json:"memo,omitempty"`
	ExecutionTimeout time.Duration              `json:"executionTimeout,omitempty"`
	RunTimeout       time.Duration              `json:"runTimeout,omitempty"`
	StartDelay       time.Duration              `json:"startDelay,omitempty"`
	SignalName       string                     `json:"signal,omitempty"`
	SignalInput      json.RawMessage            `json:"signalInput,omitempty"`
	UpdateName       string                     `json:"update,omitempty"`
	UpdateID         string                     `json:"updateId,omitempty"`
	UpdateInput      json.RawMessage            `json:"updateInput,omitempty"`
}

func fingerprintFormOf(spec StartSpec) (fingerprintForm, error) {
	f := fingerprintForm{
		WorkflowType:     spec.WorkflowType,
		WorkflowID:       spec.WorkflowID,
		TaskQueue:        spec.TaskQueue,
		Conflict:         spec.conflict(),
		Reuse:            spec.Reuse,
		CronSchedule:     spec.CronSchedule,
		ExecutionTimeout: spec.ExecutionTimeout,
		RunTimeout:       spec.RunTimeout,
		StartDelay:       spec.StartDelay,
	}
	var err error
	if f.Input, err = canonicalJSON(spec.Input); err != nil {
		return f, err
	}
	if spec.Signal != nil {
		f.SignalName = spec.Signal.Name
		if f.SignalInput, err = canonicalJSON(spec.Signal.Input); err != nil {
			return f, err
		}
	}
	if spec.Update != nil {
		f.UpdateName, f.UpdateID = spec.Update.Name, spec.Update.ID
		if f.UpdateInput, err = canonicalJSON(spec.Update.Input); err != nil {
			return f, err
		}
	}
	if len(spec.Memo) > 0 {
		f.Memo = make(map[string]json.RawMessage, len(spec.Memo))
		for k, v := range spec.Memo {
			c, err := canonicalJSON(v)
			if err != nil {
				return f, err
			}
			if c == nil {
				c = json.RawMessage("null") // a memo field set to null is still a field
			}
			f.Memo[k] = c
		}
	}
	return f, nil
}

// canonicalJSON re-encodes a JSON value with object keys sorted, numbers as written but for -0,
// which is 0; absent and null are both nil. (A typed start re-encodes its decoded input, in which
// an integer -0 became 0: the same request on the generic path must have the same fingerprint.)
func canonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(withoutNegativeZero(v))
}

// withoutNegativeZero replaces the integer -0 in v, a value decoded with UseNumber, with 0.
func withoutNegativeZero(v any) any {
	switch v := v.(type) {
	case json.Number:
		if v == "-0" {
			return json.Number("0")
		}
	case map[string]any:
		for k, e := range v {
			v[k] = withoutNegativeZero(e)
		}
	case []any:
		for i, e := range v {
			v[i] = withoutNegativeZero(e)
		}
	}
	return v
}

// isNull says whether raw is absent or the JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

package handlers_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSONBodiesHaveOneMeaning(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		refused    bool
	}{
		{"a key twice at the top", `{"workflowType":"Greeting","workflowType":"Sleep"}`, true},
		{"a key twice in the input", `{"workflowType":"Echo","input":{"a":1,"b":{"c":1},"a":2}}`, true},
		{"a key twice deep in an array", `{"workflowType":"Echo","input":[{"x":[{"k":1,"k":1}]}]}`, true},
		{"the same key spelled with an escape", `{"workflowType":"Echo","input":{"a":1,"\u0061":2}}`, true},
		{"invalid UTF-8 in a string", "{\"workflowType\":\"Echo\",\"input\":\"\xff\xfe\"}", true},
		{"invalid UTF-8 in a key", "{\"workflowType\":\"Echo\",\"input\":{\"\xc3\":1}}", true},
		{"equal keys in sibling objects", `{"workflowType":"Echo","input":[{"k":1},{"k":2}],"memo":{"k":{"k":3}}}`, false},
		{"a key equal to a string value", `{"workflowType":"Echo","input":{"a":"a","b":["a","a"]}}`, false},
		{"non-ASCII UTF-8", `{"workflowType":"Echo","input":{"名前":"Ada Lovelace ✓"}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			req := newRequest(http.MethodPost, "/workflows", tc.body)
			// Media types are whatever their case: the check must not be skipped for this one.
			req.Header.Set("Content-Type", "Application/JSON; charset=UTF-8")
			rec := serve(newRouter(t, fake), req)
			if !tc.refused {
				require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
				return
			}
			requireProblem(t, rec, "urn:temporal-http:problem:malformed-json")
			assert.Empty(t, fake.startCalls(), "nothing reached Temporal")
			assert.Empty(t, fake.describeCalls())
		})
	}
}

// errReader fails mid-body, as a body with broken chunked framing or a client that leaves does.
type errReader struct{ sent bool }

func (r *errReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, `{"workflowType":`), nil
	}
	return 0, io.ErrUnexpectedEOF
}

func TestABodyThatCannotBeReadIs400(t *testing.T) {
	fake := &fakeTemporal{}
	req := newRequest(http.MethodPost, "/workflows", "")
	req.Header.Set("Content-Type", "application/json")
	req.Body = io.NopCloser(&errReader{})
	req.ContentLength = -1
	rec := serve(newRouter(t, fake), req)
	requireProblem(t, rec, "urn:temporal-http:problem:malformed-json")
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Empty(t, fake.startCalls(), "nothing reached Temporal")
}

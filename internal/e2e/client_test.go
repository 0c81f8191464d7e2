package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// The tests drive the stack as a Go user of the gateway would: through the client generated from
// api/openapi.yaml, reading typed answers instead of raw bodies. These are their helpers.

// api is the generated client of the gateway under test.
func api(t *testing.T) *client.ClientWithResponses {
	t.Helper()
	return apiAt(t, gatewayURL)
}

// apiAt is the generated client of the gateway at base.
func apiAt(t *testing.T, base string) *client.ClientWithResponses {
	t.Helper()
	c, err := client.NewClientWithResponses(base)
	require.NoError(t, err)
	return c
}

func rawJSON(s string) *json.RawMessage {
	r := json.RawMessage(s)
	return &r
}

func ptr[T any](v T) *T { return &v }

// start starts workflowType under id with input (JSON) and requires a 201 that names the run and
// where to read it. An empty input sends none.
func start(t *testing.T, workflowType, id, input string) *client.StartWorkflowResponse {
	t.Helper()
	req := client.StartWorkflowRequest{WorkflowType: workflowType, WorkflowId: &id}
	if input != "" {
		req.Input = rawJSON(input)
	}
	r, err := api(t).StartWorkflowWithResponse(t.Context(), nil, req)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON201, "body: %s", r.Body)
	require.NotNil(t, r.Headers201)
	require.NotEmpty(t, r.Headers201.Location)
	return r
}

// get reads the execution id with params and requires a 200 with the execution.
func get(t *testing.T, id string, params *client.GetWorkflowParams) *client.GetWorkflowResponse {
	t.Helper()
	r, err := api(t).GetWorkflowWithResponse(t.Context(), id, params)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON200, "body: %s", r.Body)
	return r
}

// locate turns a Location the gateway answered, /workflows/{workflowId}[?runId=...], into the
// arguments of GetWorkflow, so that following it goes through the client.
func locate(t *testing.T, location string) (string, *client.GetWorkflowParams) {
	t.Helper()
	u, err := url.Parse(location)
	require.NoError(t, err, location)
	escaped, ok := strings.CutPrefix(u.EscapedPath(), "/workflows/")
	require.True(t, ok, "%q is not under /workflows/", location)
	require.NotContains(t, escaped, "/", "%q names more than an execution", location)
	id, err := url.PathUnescape(escaped)
	require.NoError(t, err, location)
	require.NotEmpty(t, id, location)
	params := &client.GetWorkflowParams{}
	if runID := u.Query().Get("runId"); runID != "" {
		params.RunId = &runID
	}
	return id, params
}

// waitClosed follows location (see locate) until the execution is no longer RUNNING.
func waitClosed(t *testing.T, location string) client.Execution {
	t.Helper()
	id, params := locate(t, location)
	deadline := time.Now().Add(20 * time.Second)
	for {
		e := get(t, id, params).JSON200
		if e.Status != client.ExecutionStatusRUNNING {
			return *e
		}
		require.True(t, time.Now().Before(deadline), "execution at %s still RUNNING after 20s", location)
		time.Sleep(100 * time.Millisecond)
	}
}

// typedResponse is what every answer of the generated client offers.
type typedResponse interface {
	StatusCode() int
	ContentType() string
	GetBody() []byte
}

// apiProblem checks that r is a problem+json answer with status and type, and that p, the field
// of r the client decoded it into (ApplicationproblemJSON409 and the like), holds it; it returns p.
func apiProblem(t *testing.T, r typedResponse, p *client.Problem, status int, typ string) client.Problem {
	t.Helper()
	require.Equal(t, status, r.StatusCode(), "body: %s", r.GetBody())
	assert.Equal(t, "application/problem+json", r.ContentType())
	require.NotNil(t, p, "no typed problem; body: %s", r.GetBody())
	assert.Equal(t, status, p.Status)
	assert.Equal(t, typ, p.Type)
	assert.NotEmpty(t, p.Title)
	typed, err := json.Marshal(p)
	require.NoError(t, err)
	// The typed problem as a Go caller sees it, and the body as sent: a field the spec does not
	// name would not survive decoding.
	for _, text := range []string{string(typed), string(r.GetBody())} {
		for _, leak := range []string{"rpc error", "serviceerror", ".go:", "goroutine"} {
			assert.NotContains(t, text, leak)
		}
	}
	return *p
}

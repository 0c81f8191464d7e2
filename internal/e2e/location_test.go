package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/temporalhttp/gateway/client"
)

// nodePath is the node binary; without one the test is skipped on a developer's machine and
// fails in CI, which must run it.
func nodePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err == nil {
		return p
	}
	const msg = "no node on PATH: install Node.js 20 or later"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " - CI never skips the Node tests")
	}
	t.Skip(msg)
	return ""
}

// followInNode resolves each location against base as a browser or Node's fetch does (the WHATWG
// URL parser, which removes dot segments, %2e among them), fetches it, and reports what came back.
const followInNode = `
const [base, file] = process.argv.slice(1);
const locations = JSON.parse(require("fs").readFileSync(file, "utf8"));
(async () => {
  const out = [];
  for (const location of locations) {
    const url = new URL(location, base);
    const res = await fetch(url);
    const body = await res.json();
    out.push({url: url.href, status: res.status, workflowId: body.workflowId, runId: body.runId});
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`

// followed is what a client found at a Location.
type followed struct {
	URL        string `json:"url"`
	Status     int    `json:"status"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
}

// followInGo resolves location against base as net/http does for a redirect, and GETs it.
func followInGo(t *testing.T, base, location string) followed {
	t.Helper()
	b, err := url.Parse(base)
	require.NoError(t, err)
	ref, err := url.Parse(location)
	require.NoError(t, err, location)
	u := b.ResolveReference(ref)
	resp, err := http.Get(u.String())
	require.NoError(t, err)
	defer resp.Body.Close()
	var e client.Execution
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = json.Unmarshal(body, &e)
	return followed{URL: u.String(), Status: resp.StatusCode, WorkflowID: e.WorkflowId, RunID: e.RunId}
}

// TestLocationLeadsBackToTheExecution starts executions whose ids are awkward in a URL and follows
// each Location with Go's net/http and with Node's fetch: both reach the execution that was
// started. The ids that no URL can name, `.` and `..`, are refused with 400 as a start body and as
// a path.
func TestLocationLeadsBackToTheExecution(t *testing.T) {
	node := nodePath(t)
	c := api(t)
	suffix := fmt.Sprint(time.Now().UnixNano())

	t.Run("dot ids are refused", func(t *testing.T) {
		for _, id := range []string{".", ".."} {
			r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
				WorkflowType: "Echo", WorkflowId: &id, Input: rawJSON(`1`)})
			require.NoError(t, err)
			p := apiProblem(t, r, r.ApplicationproblemJSON400, http.StatusBadRequest, "urn:temporal-http:problem:validation")
			require.NotNil(t, p.Errors, "body: %s", r.Body)
			require.Len(t, *p.Errors, 1)
			assert.Equal(t, "workflowId", (*p.Errors)[0].Field)
			_, err = temporalC.DescribeWorkflowExecution(context.Background(), id, "")
			var notFound *serviceerror.NotFound
			assert.ErrorAs(t, err, &notFound, "a start of %q reached Temporal", id)
		}
		for _, path := range []string{"/workflows/.", "/workflows/..", "/workflows/%2E", "/workflows/%2e%2E",
			"/workflows/./history", "/workflows/../events", "/workflows/%2E%2E/signals/decision"} {
			method, body := http.MethodGet, ""
			if filepath.Base(path) == "decision" {
				method, body = http.MethodPost, `{}`
			}
			t.Run(path, func(t *testing.T) {
				resp := send(t, gatewayURL, method, path, body, nil)
				problemOf(t, resp, http.StatusBadRequest, "urn:temporal-http:problem:validation")
			})
		}
	})

	ids := []string{
		"a/b-" + suffix, "a/../b-" + suffix, "../" + suffix, suffix + "/..", suffix + "/.", "./" + suffix,
		"...", ".a-" + suffix, "..a-" + suffix, "a.-" + suffix, "%2e", "%2E%2E", "a%2Fb-" + suffix, "a%b-" + suffix, "a%41-" + suffix,
		"a?b=c-" + suffix, "a#b-" + suffix, "a b-" + suffix, " " + suffix + " ", "a+b-" + suffix, "a;b,c=d&e-" + suffix,
		`a\b-` + suffix, `a'b"c<d>-` + suffix, "~" + suffix, "café-" + suffix, "日本語-" + suffix, "🎉-" + suffix,
		"tab\there-" + suffix, "line\nbreak-" + suffix,
		// Within the contract's 1000 characters and Temporal's 1000 bytes, but several times
		// 1000 characters once escaped in a path.
		strings.Repeat("é", 400) + suffix, strings.Repeat("/", 900) + suffix,
	}
	locations := make([]string, len(ids))
	runIDs := make([]string, len(ids))
	for i, id := range ids {
		// Waiting for the close lets a rerun on the same dev server start the same ids again.
		r, err := c.StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("10s")},
			client.StartWorkflowRequest{WorkflowType: "Echo", WorkflowId: &id, Input: rawJSON(`1`)})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "start %q: %s", id, r.Body)
		require.Equal(t, id, r.JSON201.WorkflowId)
		locations[i], runIDs[i] = r.Headers201.Location, r.JSON201.RunId
	}

	t.Run("Go net/http", func(t *testing.T) {
		for i, id := range ids {
			got := followInGo(t, gatewayURL, locations[i])
			assert.Equal(t, followed{URL: got.URL, Status: http.StatusOK, WorkflowID: id, RunID: runIDs[i]}, got,
				"Location %q of %q", locations[i], id)
		}
	})
	t.Run("Node fetch", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "locations.json")
		b, err := json.Marshal(locations)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(file, b, 0o600))
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, node, "-e", followInNode, gatewayURL, file).Output()
		require.NoError(t, err, "node: %s", out)
		var got []followed
		require.NoError(t, json.Unmarshal(out, &got), "node: %s", out)
		require.Len(t, got, len(ids))
		for i, id := range ids {
			assert.Equal(t, followed{URL: got[i].URL, Status: http.StatusOK, WorkflowID: id, RunID: runIDs[i]}, got[i],
				"Location %q of %q", locations[i], id)
		}
	})
}

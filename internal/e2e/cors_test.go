package e2e

import (
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
)

// allowedPage starts a Greeting on the gateway with an API key, follows its Location, reads the
// result and its ETag, and revalidates with If-None-Match: every header it sends must be allowed
// and every header it reads exposed by CORS, and no preflight may meet authentication. It also
// reads the problem a request without the key is answered with.
var allowedPage = template.Must(template.New("allowed").Parse(`<!doctype html>
<meta charset="utf-8"><title>allowed</title>
<script>
const gateway = {{.Gateway}}, id = {{.WorkflowID}}, key = {{.APIKey}};
(async () => {
  const r = {};
  try {
    const anonymous = await fetch(gateway + "/workflow-types");
    r.anonymousStatus = anonymous.status;
    r.anonymousType = (await anonymous.json()).type;
    const start = await fetch(gateway + "/workflows?wait=30s", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-API-Key": key, "Idempotency-Key": id, "X-Request-Id": "browser-" + id},
      body: JSON.stringify({workflowType: "Greeting", workflowId: id, input: {name: "Browser"}}),
    });
    r.startStatus = start.status;
    r.location = start.headers.get("Location");
    r.requestId = start.headers.get("X-Request-Id");
    r.startBody = await start.json();
    const read = await fetch(gateway + r.location, {cache: "no-store", headers: {"X-API-Key": key}});
    r.readStatus = read.status;
    r.etag = read.headers.get("ETag");
    r.readBody = await read.json();
    const again = await fetch(gateway + r.location, {headers: {"X-API-Key": key, "If-None-Match": r.etag}});
    r.revalidateStatus = again.status;
  } catch (e) {
    r.error = String(e);
  }
  await fetch("/report", {method: "POST", body: JSON.stringify(r)});
})();
</script>`))

// blockedPage tries the same start and a plain read, and also a no-cors request: that one
// succeeds with an opaque answer, which shows the gateway was reachable and the browser blocked
// the others because of CORS.
var blockedPage = template.Must(template.New("blocked").Parse(`<!doctype html>
<meta charset="utf-8"><title>blocked</title>
<script>
const gateway = {{.Gateway}}, id = {{.WorkflowID}};
(async () => {
  const r = {};
  try {
    const start = await fetch(gateway + "/workflows", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({workflowType: "Greeting", workflowId: id, input: {name: "Intruder"}}),
    });
    r.startStatus = start.status;
  } catch (e) {
    r.startError = String(e);
  }
  try {
    const read = await fetch(gateway + "/workflow-types");
    r.readStatus = read.status;
  } catch (e) {
    r.readError = String(e);
  }
  try {
    const opaque = await fetch(gateway + "/workflow-types", {mode: "no-cors"});
    r.noCorsType = opaque.type;
  } catch (e) {
    r.noCorsError = String(e);
  }
  await fetch("/report", {method: "POST", body: JSON.stringify(r)});
})();
</script>`))

type pageData struct {
	Gateway    string
	WorkflowID string
	APIKey     string
}

// TestCORSInARealBrowser serves a page from one origin that drives a gateway process of another
// origin (another port) with fetch(), in headless Chromium: the origin the gateway allows starts
// a workflow with an API key and reads every header it needs; another origin is blocked by the
// browser.
func TestCORSInARealBrowser(t *testing.T) {
	chromiumPath(t) // before starting anything: skips locally, fails in CI
	allowed := newPageServer(t, allowedPage)
	blocked := newPageServer(t, blockedPage)
	key, entry := mintKey(t, "browser", "read+start")
	base := startGuardedGateway(t, "GATEWAY_CORS_ALLOWED_ORIGINS="+allowed.URL, "GATEWAY_API_KEYS="+entry)
	require.NotEqual(t, allowed.URL, base)

	t.Run("allowed origin", func(t *testing.T) {
		id := uniqueID(t)
		var got struct {
			AnonymousStatus  int    `json:"anonymousStatus"`
			AnonymousType    string `json:"anonymousType"`
			StartStatus      int    `json:"startStatus"`
			Location         string `json:"location"`
			RequestID        string `json:"requestId"`
			ReadStatus       int    `json:"readStatus"`
			ETag             string `json:"etag"`
			RevalidateStatus int    `json:"revalidateStatus"`
			Error            string `json:"error"`
			StartBody        struct {
				WorkflowID string `json:"workflowId"`
				Status     string `json:"status"`
			} `json:"startBody"`
			ReadBody struct {
				Status string `json:"status"`
				Result struct {
					Greeting string `json:"greeting"`
				} `json:"result"`
			} `json:"readBody"`
		}
		allowed.report(t, pageData{Gateway: base, WorkflowID: id, APIKey: key}, &got)

		require.Empty(t, got.Error, "the page's script failed")
		assert.Equal(t, http.StatusUnauthorized, got.AnonymousStatus, "a problem is readable by the page too")
		assert.Equal(t, "urn:temporal-http:problem:unauthorized", got.AnonymousType)
		assert.Equal(t, http.StatusCreated, got.StartStatus)
		assert.Equal(t, id, got.StartBody.WorkflowID)
		assert.Equal(t, "COMPLETED", got.StartBody.Status)
		assert.True(t, strings.HasPrefix(got.Location, "/workflows/"+id+"?runId="), "Location exposed to the page: %q", got.Location)
		assert.Equal(t, "browser-"+id, got.RequestID, "X-Request-Id exposed to the page")
		assert.Equal(t, http.StatusOK, got.ReadStatus)
		assert.Regexp(t, `^"[0-9a-f]{32}"$`, got.ETag, "ETag exposed to the page")
		assert.Equal(t, "COMPLETED", got.ReadBody.Status)
		assert.Equal(t, "Hello, Browser!", got.ReadBody.Result.Greeting)
		assert.Equal(t, http.StatusNotModified, got.RevalidateStatus, "If-None-Match allowed in a request")
	})

	t.Run("other origin is blocked by the browser", func(t *testing.T) {
		id := uniqueID(t)
		var got struct {
			StartStatus int    `json:"startStatus"`
			StartError  string `json:"startError"`
			ReadStatus  int    `json:"readStatus"`
			ReadError   string `json:"readError"`
			NoCorsType  string `json:"noCorsType"`
			NoCorsError string `json:"noCorsError"`
		}
		blocked.report(t, pageData{Gateway: base, WorkflowID: id}, &got)

		assert.Zero(t, got.StartStatus, "the page must not see the answer to its start")
		assert.Contains(t, got.StartError, "TypeError")
		assert.Zero(t, got.ReadStatus, "the page must not see the answer to its read")
		assert.Contains(t, got.ReadError, "TypeError")
		assert.Empty(t, got.NoCorsError)
		assert.Equal(t, "opaque", got.NoCorsType, "the gateway was reachable: CORS is what blocked the page")

		// The refused preflight kept the browser from sending the start at all.
		_, err := temporalC.DescribeWorkflowExecution(t.Context(), id, "")
		var notFound *serviceerror.NotFound
		assert.ErrorAs(t, err, &notFound, "no workflow was started from the blocked origin")
	})
}

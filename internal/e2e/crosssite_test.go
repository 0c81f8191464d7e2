package e2e

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// crossSitePage is any web page the user of an open gateway happens to visit. It tries what a
// browser sends to another origin without asking it first: POSTs in no-cors mode to signal,
// cancel and terminate a workflow, with no body and with a text, form and multipart one. The
// browser sends them all (each answer is opaque to the page); the page reports once every one
// has been answered.
var crossSitePage = template.Must(template.New("cross-site").Parse(`<!doctype html>
<meta charset="utf-8"><title>cross-site</title>
<script>
const gateway = {{.Gateway}}, id = {{.WorkflowID}};
(async () => {
  const r = {sent: 0, errors: []};
  const form = () => { const f = new FormData(); f.append("reason", "pwned"); return f; };
  const bodies = [undefined, "{}", new URLSearchParams({reason: "pwned"}), form()];
  for (const action of ["signals/decision", "cancel", "terminate"]) {
    for (const body of bodies) {
      try {
        const answer = await fetch(gateway + "/workflows/" + encodeURIComponent(id) + "/" + action,
          {method: "POST", mode: "no-cors", body: body instanceof FormData ? form() : body});
        if (answer.type === "opaque") r.sent++;
      } catch (e) {
        r.errors.push(action + ": " + String(e));
      }
    }
  }
  await fetch("/report", {method: "POST", body: JSON.stringify(r)});
})();
</script>`))

// TestNoCrossSiteWritesInARealBrowser opens a page of another origin in headless Chromium while
// the suite's gateway runs open, as `make run` does: every POST the page can send without a CORS
// preflight reaches the gateway and is refused with 415, and the workflow it aimed at runs on,
// unsignalled and uncancelled.
func TestNoCrossSiteWritesInARealBrowser(t *testing.T) {
	chromiumPath(t) // before starting anything: skips locally, fails in CI
	page := newPageServer(t, crossSitePage)
	id := uniqueID(t)
	start(t, "Approval", id, `{"requestId":"`+id+`","amount":1,"approver":"grace"}`)
	t.Cleanup(func() { _, _ = api(t).TerminateWorkflowWithResponse(t.Context(), id, client.StopRequest{}) })
	before := scrapeMetrics(t, gatewayURL+"/metrics")

	var got struct {
		Sent   int      `json:"sent"`
		Errors []string `json:"errors"`
	}
	page.report(t, pageData{Gateway: gatewayURL, WorkflowID: id}, &got)
	require.Empty(t, got.Errors, "the browser refused to send some requests")
	require.Equal(t, 12, got.Sent, "the browser sent every request: 3 actions with 4 bodies")

	refused := metricSum(scrapeMetrics(t, gatewayURL+"/metrics"), "gateway_http_requests_total", map[string]string{"status": "415"}) -
		metricSum(before, "gateway_http_requests_total", map[string]string{"status": "415"})
	assert.Equal(t, 12.0, refused, "the gateway refused every one with 415")

	read := get(t, id, nil)
	assert.Equal(t, client.ExecutionStatusRUNNING, read.JSON200.Status, "the workflow still runs")
	history, err := api(t).GetWorkflowHistoryWithResponse(t.Context(), id, nil)
	require.NoError(t, err)
	require.NotNil(t, history.JSON200, "status %d: %s", history.StatusCode(), history.Body)
	for _, raw := range history.JSON200.Events {
		var event struct {
			EventType string `json:"eventType"`
		}
		require.NoError(t, json.Unmarshal(raw, &event))
		assert.NotContains(t, []string{"EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED", "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED"},
			event.EventType, "the page reached the workflow")
	}
}

// rebindingPage runs at the attacker's origin after its name has been pointed at the gateway's
// address: its requests are same-origin, so CORS does not stop them and they may send JSON and
// read the answers. It reads the workflow and terminates it, and reports what it was answered.
var rebindingPage = template.Must(template.New("rebinding").Parse(`<!doctype html>
<meta charset="utf-8"><title>rebinding</title>
<script>
const id = {{.WorkflowID}};
(async () => {
  const r = {};
  try {
    const read = await fetch("/workflows/" + encodeURIComponent(id), {cache: "no-store"});
    r.readStatus = read.status;
    r.readType = (await read.json()).type || "";
    const stop = await fetch("/workflows/" + encodeURIComponent(id) + "/terminate", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({reason: "pwned"}),
    });
    r.terminateStatus = stop.status;
    r.terminateType = stop.status === 202 ? "" : (await stop.json()).type;
  } catch (e) {
    r.error = String(e);
  }
  await fetch("/report", {method: "POST", body: JSON.stringify(r)});
})();
</script>`))

// TestDNSRebindingGets421InARealBrowser opens a page at http://rebind.test:PORT in headless
// Chromium, which resolves that name to 127.0.0.1, and lets the page's same-origin requests
// through to the suite's open gateway with the Host the browser wrote: the gateway answers them
// 421 and the workflow runs on. The same page opened by a loopback name reads and terminates
// another workflow through the same path, so it is the name alone that the gateway refused.
func TestDNSRebindingGets421InARealBrowser(t *testing.T) {
	chromiumPath(t) // before starting anything: skips locally, fails in CI
	page := newRebindingServer(t, rebindingPage, gatewayURL)
	port := strings.TrimPrefix(page.URL, "http://127.0.0.1:")

	type report struct {
		ReadStatus      int    `json:"readStatus"`
		ReadType        string `json:"readType"`
		TerminateStatus int    `json:"terminateStatus"`
		TerminateType   string `json:"terminateType"`
		Error           string `json:"error"`
	}
	t.Run("rebound name", func(t *testing.T) {
		id := uniqueID(t)
		start(t, "Sleep", id, `{"seconds":600}`)
		t.Cleanup(func() { _, _ = api(t).TerminateWorkflowWithResponse(t.Context(), id, client.StopRequest{}) })
		var got report
		page.reportAt(t, (&url.URL{Scheme: "http", Host: "rebind.test:" + port, Path: "/"}).String(),
			pageData{WorkflowID: id}, &got, "--host-resolver-rules=MAP rebind.test 127.0.0.1")

		require.Empty(t, got.Error, "the page's script failed")
		assert.Equal(t, http.StatusMisdirectedRequest, got.ReadStatus)
		assert.Equal(t, "urn:temporal-http:problem:misdirected-request", got.ReadType)
		assert.Equal(t, http.StatusMisdirectedRequest, got.TerminateStatus)
		assert.Equal(t, "urn:temporal-http:problem:misdirected-request", got.TerminateType)
		assert.Equal(t, client.ExecutionStatusRUNNING, get(t, id, nil).JSON200.Status, "the workflow still runs")
	})

	t.Run("loopback name", func(t *testing.T) {
		id := uniqueID(t)
		start(t, "Sleep", id, `{"seconds":600}`)
		var got report
		page.reportAt(t, page.URL+"/", pageData{WorkflowID: id}, &got)

		require.Empty(t, got.Error, "the page's script failed")
		assert.Equal(t, http.StatusOK, got.ReadStatus)
		assert.Equal(t, http.StatusAccepted, got.TerminateStatus)
		assert.Equal(t, client.ExecutionStatusTERMINATED, get(t, id, nil).JSON200.Status)
	})
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
	"github.com/temporalhttp/gateway/internal/devserver"
	"github.com/temporalhttp/gateway/internal/gen"
)

// examplesDir is the directory examples/<name> of this checkout.
func examplesDir(t *testing.T, name string) string {
	t.Helper()
	root, err := devserver.RepoRoot()
	require.NoError(t, err)
	return filepath.Join(root, "examples", name)
}

// curlScripts runs the scripts of examples/curl, each named after the operation it calls, against
// one gateway, and records which operations it ran.
type curlScripts struct {
	dir string
	env []string
	ran map[string]bool
}

// run runs the script of operation with args. It returns what the script printed and its exit
// code; a script that cannot run, or that runs past a minute, fails the test.
func (c *curlScripts) run(t *testing.T, operation string, args ...string) (string, int) {
	t.Helper()
	c.ran[operation] = true
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.dir, operation+".sh"), args...)
	cmd.Env = append(os.Environ(), c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		require.NoError(t, err, "%s.sh %q; stderr: %s", operation, args, stderr.String())
	}
	require.NoError(t, ctx.Err(), "%s.sh %q did not finish in time", operation, args)
	code := cmd.ProcessState.ExitCode()
	if code != 0 {
		t.Logf("%s.sh %q exited %d; stdout: %s; stderr: %s", operation, args, code, stdout.String(), stderr.String())
	}
	return stdout.String(), code
}

// ok runs the script of operation with args and requires it to succeed.
func (c *curlScripts) ok(t *testing.T, operation string, args ...string) string {
	t.Helper()
	out, code := c.run(t, operation, args...)
	require.Zero(t, code, "%s.sh %q failed; it printed: %s", operation, args, out)
	return out
}

// execution runs the script of operation with args and decodes the execution it prints.
func (c *curlScripts) execution(t *testing.T, operation string, args ...string) client.Execution {
	t.Helper()
	out := c.ok(t, operation, args...)
	var e client.Execution
	require.NoError(t, json.Unmarshal([]byte(out), &e), "%s.sh printed: %s", operation, out)
	return e
}

// specOperations lists the operationIds of the contract this gateway was generated from, but for
// its typed operations.
func specOperations(t *testing.T) []string {
	t.Helper()
	spec, err := gen.GetSwagger()
	require.NoError(t, err)
	var ids []string
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			if _, typed := op.Extensions["x-workflow-type"]; typed {
				// A typed operation is its generic twin with the workflow type fixed, which a
				// script of the twin's shows; the generated clients drive the typed ones
				// (typed_test.go, clients/typescript).
				continue
			}
			// The generator's copy of the spec capitalizes operation ids.
			ids = append(ids, strings.ToLower(op.OperationID[:1])+op.OperationID[1:])
		}
	}
	slices.Sort(ids)
	return ids
}

// TestCurlExamples runs every script in examples/curl against a gateway that demands an API key,
// in the order a user would: start workflows, read, watch, signal, query and update the Approval
// sample, cancel and terminate, list. Every operation of the spec but the typed ones must have its
// script, and this test must run it.
func TestCurlExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		const msg = "no curl on PATH: the curl examples need it"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " - CI never skips them")
		}
		t.Skip(msg)
	}
	dir := examplesDir(t, "curl")
	operations := specOperations(t)

	t.Run("every operation has a script", func(t *testing.T) {
		paths, err := filepath.Glob(filepath.Join(dir, "*.sh"))
		require.NoError(t, err)
		var scripts []string
		for _, p := range paths {
			name := strings.TrimSuffix(filepath.Base(p), ".sh")
			scripts = append(scripts, name)
			text, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Regexp(t, `\A#!/bin/sh\n# operationId: `+regexp.QuoteMeta(name)+` \(`, string(text),
				"%s names its operationId in its header", filepath.Base(p))
			info, err := os.Stat(p)
			require.NoError(t, err)
			assert.NotZero(t, info.Mode()&0o111, "%s is executable", filepath.Base(p))
		}
		assert.Equal(t, operations, scripts, "one script per operationId of the spec, named after it")
	})

	key, entry := mintKey(t, "curl", "admin")
	base := startGuardedGateway(t, "GATEWAY_API_KEYS="+entry)
	sh := &curlScripts{dir: dir, env: []string{"GATEWAY_URL=" + base, "GATEWAY_API_KEY=" + key}, ran: map[string]bool{}}
	id := uniqueID(t)

	t.Run("operational", func(t *testing.T) {
		assert.JSONEq(t, `{"status":"ok"}`, sh.ok(t, "getHealth"))
		assert.JSONEq(t, `{"status":"ok"}`, sh.ok(t, "getReadiness"))
		assert.Contains(t, sh.ok(t, "getMetrics"), "gateway_http_requests_total")
		assert.True(t, strings.HasPrefix(sh.ok(t, "getOpenAPISpec"), "openapi: 3."))
		assert.Contains(t, sh.ok(t, "getDocs"), "swagger-ui-bundle.js")
		assert.Contains(t, sh.ok(t, "getDocsAsset", "swagger-ui.css"), ".swagger-ui")
		assert.Contains(t, sh.ok(t, "listWorkflowTypes"), `"name":"Approval"`)
	})

	t.Run("start, read, watch and history", func(t *testing.T) {
		done := sh.execution(t, "startWorkflow", "Greeting", `{"name":"Curl"}`, id+"-greeting", "30s")
		require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)
		require.NotNil(t, done.Result)
		assert.JSONEq(t, `{"greeting":"Hello, Curl!"}`, string(*done.Result))
		assert.Equal(t, done.RunId, sh.execution(t, "getWorkflow", id+"-greeting").RunId)

		var history struct{ Events []json.RawMessage }
		out := sh.ok(t, "getWorkflowHistory", id+"-greeting", "5")
		require.NoError(t, json.Unmarshal([]byte(out), &history), "printed: %s", out)
		assert.NotEmpty(t, history.Events)

		sleep := sh.execution(t, "startWorkflow", "Sleep", `{"seconds":2}`, id+"-sleep")
		require.Equal(t, client.ExecutionStatusRUNNING, sleep.Status)
		stream := sh.ok(t, "watchWorkflow", id+"-sleep")
		var statuses []string
		for _, m := range regexp.MustCompile(`(?m)^event: execution\ndata: (.*)$`).FindAllStringSubmatch(stream, -1) {
			var e client.Execution
			require.NoError(t, json.Unmarshal([]byte(m[1]), &e))
			statuses = append(statuses, string(e.Status))
		}
		assert.Equal(t, []string{"RUNNING", "COMPLETED"}, statuses, "stream: %s", stream)
	})

	t.Run("signal, query and update the Approval sample", func(t *testing.T) {
		signaled, updated := id+"-signaled", id+"-updated"
		for _, a := range []string{signaled, updated} {
			e := sh.execution(t, "startWorkflow", "Approval", `{"requestId":"`+a+`","amount":125000,"approver":"grace"}`, a)
			require.Equal(t, client.ExecutionStatusRUNNING, e.Status)
		}
		assert.JSONEq(t, `{"result":{"state":"PENDING"}}`, sh.ok(t, "queryWorkflow", signaled, "status"))
		assert.Empty(t, sh.ok(t, "signalWorkflow", signaled, "decision", `{"approved":false,"comment":"over budget"}`))
		rejected := sh.execution(t, "getWorkflow", signaled, "30s")
		require.Equal(t, client.ExecutionStatusCOMPLETED, rejected.Status)
		require.NotNil(t, rejected.Result)
		assert.JSONEq(t, `{"state":"REJECTED","comment":"over budget"}`, string(*rejected.Result))

		var update client.UpdateResponse
		out := sh.ok(t, "updateWorkflow", updated, "approve")
		require.NoError(t, json.Unmarshal([]byte(out), &update), "printed: %s", out)
		assert.JSONEq(t, `{"state":"APPROVED"}`, string(update.Result))

		cart := id + "-cart"
		t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.Background(), cart, "", "test over") })
		for i, total := range []int{900, 1800} {
			out := sh.ok(t, "updateWorkflow", cart, "addItem", `{"sku":"tea","quantity":2,"priceCents":450}`,
				`{"workflowType":"Cart","input":{"customerId":"ada"}}`)
			require.NoError(t, json.Unmarshal([]byte(out), &update), "printed: %s", out)
			assert.Equal(t, i == 0, *update.RunStarted, "the first call starts the cart, the second finds it")
			assert.JSONEq(t, fmt.Sprint(total), string(mustField(t, update.Result, "totalCents")))
		}
	})

	t.Run("cancel and terminate", func(t *testing.T) {
		canceled, terminated := id+"-canceled", id+"-terminated"
		for _, s := range []string{canceled, terminated} {
			sh.execution(t, "startWorkflow", "Sleep", `{"seconds":600}`, s)
		}
		assert.Empty(t, sh.ok(t, "cancelWorkflow", canceled))
		assert.Equal(t, client.ExecutionStatusCANCELED, sh.execution(t, "getWorkflow", canceled, "30s").Status)
		assert.Empty(t, sh.ok(t, "terminateWorkflow", terminated, `done "by hand"`))
		e := sh.execution(t, "getWorkflow", terminated)
		assert.Equal(t, client.ExecutionStatusTERMINATED, e.Status)
		require.NotNil(t, e.Failure)
		assert.Equal(t, `done "by hand"`, e.Failure.Message, "the reason arrives intact, quotes and all")
	})

	t.Run("list", func(t *testing.T) {
		// Listing reads Temporal's visibility store, which may lag a just-closed execution.
		deadline := time.Now().Add(15 * time.Second)
		for {
			var list client.ExecutionList
			out := sh.ok(t, "listWorkflows", "COMPLETED", "Greeting", "100")
			require.NoError(t, json.Unmarshal([]byte(out), &list), "printed: %s", out)
			if slices.ContainsFunc(list.Executions, func(e client.Execution) bool { return e.WorkflowId == id+"-greeting" }) {
				break
			}
			require.True(t, time.Now().Before(deadline), "the greeting is not listed within 15s: %s", out)
			time.Sleep(250 * time.Millisecond)
		}
	})

	t.Run("schedules", func(t *testing.T) {
		sid := id + "-schedule"
		schedule := func(out string) client.Schedule {
			t.Helper()
			var s client.Schedule
			require.NoError(t, json.Unmarshal([]byte(out), &s), "printed: %s", out)
			return s
		}
		created := schedule(sh.ok(t, "createSchedule", sid, `{"intervals":[{"every":"1h"}]}`, "Greeting", `{"name":"Cron"}`, sid+"-run"))
		assert.Equal(t, sid, created.ScheduleId)

		assert.Empty(t, sh.ok(t, "pauseSchedule", sid, `for "maintenance"`))
		paused := schedule(sh.ok(t, "getSchedule", sid))
		assert.True(t, *paused.State.Paused)
		assert.Equal(t, `for "maintenance"`, *paused.State.Note, "the note arrives intact, quotes and all")
		assert.Empty(t, sh.ok(t, "unpauseSchedule", sid))

		// The script reads the ETag and sends it in If-Match; its default spec is every hour at :05.
		updated := schedule(sh.ok(t, "updateSchedule", sid))
		assert.JSONEq(t, `{"name":"Grace"}`, string(*updated.Action.Input))
		assert.False(t, *updated.State.Paused)
		_, code := sh.run(t, "updateSchedule", sid, `{}`, "Greeting", `{"name":"Grace"}`, sid+"-run", `"AAAAAAAAAAE"`)
		assert.Equal(t, 22, code, "a stale If-Match is a 412")

		assert.Empty(t, sh.ok(t, "triggerSchedule", sid, "ALLOW_ALL"))
		start := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Hour).Add(5 * time.Minute)
		assert.Empty(t, sh.ok(t, "backfillSchedule", sid, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)))
		require.Eventually(t, func() bool {
			var list client.ExecutionList
			out := sh.ok(t, "listWorkflows", "COMPLETED", "", "100", "", sid)
			require.NoError(t, json.Unmarshal([]byte(out), &list), "printed: %s", out)
			return len(list.Executions) == 3
		}, 20*time.Second, 300*time.Millisecond, "the trigger's run and the backfill's two complete and are listed by the schedule")
		require.Eventually(t, func() bool {
			var list client.ScheduleList
			out := sh.ok(t, "listSchedules", "1000")
			require.NoError(t, json.Unmarshal([]byte(out), &list), "printed: %s", out)
			return slices.ContainsFunc(list.Schedules, func(s client.ScheduleSummary) bool { return s.ScheduleId == sid })
		}, 15*time.Second, 300*time.Millisecond)

		assert.Empty(t, sh.ok(t, "deleteSchedule", sid))
		_, code = sh.run(t, "getSchedule", sid)
		assert.Equal(t, 22, code, "a deleted schedule is a 404")
	})

	t.Run("a problem is printed and fails the script", func(t *testing.T) {
		out, code := sh.run(t, "getWorkflow", id+"-missing")
		assert.Equal(t, 22, code, "curl --fail-with-body exits 22 on an error answer")
		var p client.Problem
		require.NoError(t, json.Unmarshal([]byte(out), &p), "printed: %s", out)
		assert.Equal(t, http.StatusNotFound, p.Status)
		assert.Equal(t, "urn:temporal-http:problem:workflow-not-found", p.Type)
	})

	var ran []string
	for op := range sh.ran {
		ran = append(ran, op)
	}
	slices.Sort(ran)
	assert.Equal(t, operations, ran, "this test runs the script of every operation")
}

// webHarness opens examples/web/ in a frame of its own origin, with the form filled from the
// fragment and autostart on, and reports what the page shows once it is done: the example
// itself carries nothing for the test.
var webHarness = template.Must(template.New("harness").Parse(`<!doctype html>
<meta charset="utf-8"><title>harness</title>
<iframe id="page" width="800" height="600"></iframe>
<script>
const frame = document.getElementById("page");
frame.src = "/#" + new URLSearchParams({{.}});
const deadline = Date.now() + 45000;
const poll = setInterval(async () => {
  const doc = frame.contentDocument;
  const phase = doc && doc.documentElement.dataset.phase;
  if (phase !== "closed" && phase !== "error" && Date.now() < deadline) return;
  clearInterval(poll);
  const text = (id) => doc && doc.getElementById(id) ? doc.getElementById(id).textContent : "";
  const r = {
    phase: phase || "",
    statuses: doc ? [...doc.querySelectorAll("#statuses li")].map((li) => li.dataset.status) : [],
    status: text("status"),
    outcome: text("outcome"),
    problem: text("problem"),
  };
  await fetch("/report", {method: "POST", body: JSON.stringify(r)});
}, 100);
</script>`))

// webSite serves examples/web with a plain file server, as a user would, plus the harness at
// /harness and the harness's /report, all from one origin.
type webSite struct {
	*httptest.Server
	reports chan json.RawMessage

	mu     sync.Mutex
	params map[string]string // the page's form, as the harness passes it in the fragment
}

func newWebSite(t *testing.T) *webSite {
	t.Helper()
	s := &webSite{reports: make(chan json.RawMessage, 1)}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir(examplesDir(t, "web"))))
	mux.HandleFunc("GET /harness", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := webHarness.Execute(w, s.params); err != nil {
			t.Errorf("render harness: %v", err)
		}
	})
	handleReports(t, mux, "harness", s.reports)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// webReport is what the page showed.
type webReport struct {
	Phase    string   `json:"phase"`
	Statuses []string `json:"statuses"`
	Status   string   `json:"status"`
	Outcome  string   `json:"outcome"`
	Problem  string   `json:"problem"`
}

// show opens the page with its form filled from params in headless Chromium and returns what it
// showed once the execution closed or the page gave up.
func (s *webSite) show(t *testing.T, params map[string]string) webReport {
	t.Helper()
	s.mu.Lock()
	s.params = params
	s.mu.Unlock()
	stop := openInChromium(t, s.URL+"/harness")
	defer stop()
	select {
	case body := <-s.reports:
		t.Logf("the page showed: %s", body)
		var r webReport
		require.NoError(t, json.Unmarshal(body, &r))
		return r
	case <-time.After(60 * time.Second):
		t.Fatalf("the harness at %s reported nothing within 60s", s.URL)
		return webReport{}
	}
}

// TestWebExampleInChromium serves examples/web from an origin of its own and drives it in
// headless Chromium against a gateway that allows that origin and demands an API key: the page
// starts a workflow and follows it on the event stream, read with fetch so the key goes along.
func TestWebExampleInChromium(t *testing.T) {
	chromiumPath(t) // before starting anything: skips locally, fails in CI
	site := newWebSite(t)
	key, entry := mintKey(t, "web", "read+start")
	base := startGuardedGateway(t, "GATEWAY_CORS_ALLOWED_ORIGINS="+site.URL, "GATEWAY_API_KEYS="+entry)

	t.Run("statuses stream live", func(t *testing.T) {
		id := uniqueID(t)
		got := site.show(t, map[string]string{
			"gateway": base, "apiKey": key, "workflowType": "Sleep", "workflowId": id,
			"input": `{"seconds":2}`, "autostart": "1",
		})
		require.Equal(t, "closed", got.Phase, "problem shown: %q", got.Problem)
		assert.Equal(t, []string{"RUNNING", "COMPLETED"}, got.Statuses)
		assert.Equal(t, "COMPLETED", got.Status)
		assert.JSONEq(t, `{"sleptSeconds":2}`, got.Outcome)
		assert.Empty(t, got.Problem)
	})

	t.Run("a problem is shown", func(t *testing.T) {
		got := site.show(t, map[string]string{
			"gateway": base, "apiKey": key, "workflowType": "NoSuchWorkflow", "input": `{}`, "autostart": "1",
		})
		assert.Equal(t, "error", got.Phase)
		assert.Empty(t, got.Statuses)
		assert.Contains(t, got.Problem, "422 ")
	})
}

// mustField is the field name of the JSON object raw.
func mustField(t *testing.T, raw json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &fields), "%s", raw)
	return fields[name]
}

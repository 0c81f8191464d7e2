package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// docsDriver runs in the /docs page. It lists the operations Swagger UI rendered, then uses the
// page as a person would: "Try it out" on startWorkflow with body, once without credentials and
// once after giving key to "Authorize", and reports the statuses and the body the page shows.
const docsDriver = `async ({key, body}) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (what, f) => {
    for (const end = Date.now() + 20000; Date.now() < end; await sleep(50)) {
      const v = f();
      if (v) return v;
    }
    throw new Error("timed out waiting for " + what);
  };
  // Swagger UI's fields are React inputs: set the value as the browser would, then tell React.
  const type = (el, value) => {
    Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value").set.call(el, value);
    el.dispatchEvent(new Event("input", {bubbles: true}));
  };
  const r = {};
  try {
    await until("the operations", () => document.querySelector(".opblock"));
    r.operations = Object.fromEntries([...document.querySelectorAll(".opblock")].map(
      (op) => [op.id, op.querySelector(".opblock-summary-description")?.textContent ?? ""]));
    const op = document.querySelector("#operations-workflows-startWorkflow");
    (await until("Try it out", () => op.querySelector(".try-out__btn"))).click();
    type(await until("the request body", () => op.querySelector("textarea.body-param__text")), body);
    await sleep(500); // the body field takes its value after a debounce
    const execute = async (previous) => {
      op.querySelector(".btn.execute").click();
      const el = await until("an answer", () => {
        const s = op.querySelector(".live-responses-table .response .response-col_status");
        return s && s.textContent.trim() !== previous && s;
      });
      return el.textContent.trim();
    };
    r.anonymousStatus = await execute("");
    document.querySelector(".auth-wrapper .authorize").click();
    type(await until("the API key field", () => document.querySelector(".modal-ux input")), key);
    document.querySelector(".modal-ux .auth-btn-wrapper .authorize").click();
    (await until("the authorized state", () => document.querySelector(".modal-ux .btn-done"))).click();
    r.startStatus = await execute(r.anonymousStatus);
    r.startBody = op.querySelector(".live-responses-table .response .microlight")?.textContent ?? "";
  } catch (e) {
    r.error = String(e);
  }
  return r;
}`

// docsSignalDriver runs in the /docs page after docsDriver, with the key authorized: "Try it out"
// on signalWorkflow, an action whose body says little, sends a signal to the execution id. It
// reports the status and the curl command the page shows.
const docsSignalDriver = `async ({id, body}) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (what, f) => {
    for (const end = Date.now() + 20000; Date.now() < end; await sleep(50)) {
      const v = f();
      if (v) return v;
    }
    throw new Error("timed out waiting for " + what);
  };
  const type = (el, value) => {
    Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value").set.call(el, value);
    el.dispatchEvent(new Event("input", {bubbles: true}));
  };
  const r = {};
  try {
    const op = document.querySelector("#operations-workflows-signalWorkflow");
    op.querySelector(".opblock-summary-control").click();
    (await until("Try it out", () => op.querySelector(".try-out__btn"))).click();
    type(await until("the workflowId field", () => op.querySelector('tr[data-param-name="workflowId"] input')), id);
    type(op.querySelector('tr[data-param-name="signalName"] input'), "decision");
    type(await until("the request body", () => op.querySelector("textarea.body-param__text")), body);
    await sleep(500); // the body field takes its value after a debounce
    op.querySelector(".btn.execute").click();
    r.status = (await until("an answer", () => op.querySelector(".live-responses-table .response .response-col_status"))).textContent.trim();
    r.curl = op.querySelector(".curl-command")?.textContent ?? "";
  } catch (e) {
    r.error = String(e);
  }
  return r;
}`

// TestDocsPageInARealBrowser opens /docs of a gateway that requires credentials in headless
// Chromium. The page lists every operation of the contract, and "Try it out" starts a workflow
// through the same gateway with an API key. Every request the page makes goes to the gateway,
// and its Content-Security-Policy blocks nothing Swagger UI does.
func TestDocsPageInARealBrowser(t *testing.T) {
	chromiumPath(t) // before starting anything: skips locally, fails in CI
	key, entry := mintKey(t, "docs", "read+start")
	base := startGuardedGateway(t, "GATEWAY_API_KEYS="+entry)
	id := uniqueID(t)

	// Deep link: the page opens with startWorkflow expanded.
	page := openDevTools(t, base+"/docs#/workflows/startWorkflow")
	body, err := json.Marshal(map[string]any{"workflowType": "Greeting", "workflowId": id, "input": map[string]string{"name": "Docs"}})
	require.NoError(t, err)
	var got struct {
		Operations      map[string]string `json:"operations"`
		AnonymousStatus string            `json:"anonymousStatus"`
		StartStatus     string            `json:"startStatus"`
		StartBody       string            `json:"startBody"`
		Error           string            `json:"error"`
	}
	page.call(t, docsDriver, map[string]string{"key": key, "body": string(body)}, &got)
	t.Logf("the page reported: statuses %s then %s, %d operations", got.AnonymousStatus, got.StartStatus, len(got.Operations))

	require.Empty(t, got.Error, "the page's script failed")
	// The contract as the gateway serves it, which is what the page rendered.
	resp, err := http.Get(base + "/openapi.yaml")
	require.NoError(t, err)
	defer resp.Body.Close()
	doc, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	spec, err := openapi3.NewLoader().LoadFromData(doc)
	require.NoError(t, err)
	want := map[string]string{}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			require.NotEmpty(t, op.Tags, op.OperationID)
			// Swagger UI's element id for an operation is its tag and operationId.
			want["operations-"+op.Tags[0]+"-"+op.OperationID] = op.Summary
		}
	}
	assert.Equal(t, want, got.Operations, "every operation is listed, with its summary")
	assert.Equal(t, fmt.Sprint(http.StatusUnauthorized), got.AnonymousStatus, "without a key the gateway refuses")
	assert.Equal(t, fmt.Sprint(http.StatusCreated), got.StartStatus, "with the key the start succeeds")
	assert.Contains(t, got.StartBody, `"workflowId": "`+id+`"`, "the page shows the answer")

	read, err := apiAt(t, base).GetWorkflowWithResponse(t.Context(), id, &client.GetWorkflowParams{Wait: ptr("30s")}, apiKey(key))
	require.NoError(t, err)
	require.NotNil(t, read.JSON200, "status %d: %s", read.StatusCode(), read.Body)
	assert.Equal(t, client.ExecutionStatusCOMPLETED, read.JSON200.Status, "the workflow the page started ran on the worker")

	// Every POST must be application/json: "Try it out" sends it so, since the contract requires
	// the body even of an action that has little to say.
	approval := uniqueID(t)
	start(t, "Approval", approval, `{"requestId":"`+approval+`","amount":1,"approver":"grace"}`)
	var signal struct {
		Status string `json:"status"`
		Curl   string `json:"curl"`
		Error  string `json:"error"`
	}
	page.call(t, docsSignalDriver, map[string]string{"id": approval, "body": `{"input":{"approved":true,"comment":"from the docs page"}}`}, &signal)
	require.Empty(t, signal.Error, "the page's script failed")
	assert.Equal(t, fmt.Sprint(http.StatusAccepted), signal.Status, "the page's signal was accepted")
	assert.Contains(t, signal.Curl, "Content-Type: application/json", "the page sends the body as JSON")
	decided, err := apiAt(t, base).GetWorkflowWithResponse(t.Context(), approval, &client.GetWorkflowParams{Wait: ptr("30s")}, apiKey(key))
	require.NoError(t, err)
	require.NotNil(t, decided.JSON200, "status %d: %s", decided.StatusCode(), decided.Body)
	assert.Equal(t, client.ExecutionStatusCOMPLETED, decided.JSON200.Status, "the signal the page sent decided the approval")

	events := page.close(t)
	for _, u := range events.requests {
		assert.True(t, strings.HasPrefix(u, base+"/") || strings.HasPrefix(u, "data:"), "the page fetched %s, not from the gateway", u)
	}
	assert.GreaterOrEqual(t, len(events.requests), 4, "the page, its three files and the contract")
	assert.Empty(t, events.violations, "the Content-Security-Policy blocked something")
	assert.Empty(t, events.exceptions, "the page threw")
}

// The page's Content-Security-Policy rightly stops a test script from reporting out of it, as the
// CORS pages of browser_test.go do. So Chromium is driven over the DevTools protocol instead, on
// a pipe (--remote-debugging-pipe: JSON messages ending in a NUL byte on file descriptors 3 and
// 4), which needs nothing beyond the standard library.

// devTools is one page in a headless Chromium.
type devTools struct {
	send    *os.File // Chromium reads commands on its fd 3
	session string   // the page's session, for the commands sent to it
	stop    func()

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan devToolsMessage
	events  devToolsEvents
	loads   chan string // the loader ids of the documents that finished loading
}

type devToolsMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// devToolsEvents is what the page did besides answering: the URLs it requested, the
// Content-Security-Policy violations the browser reported, and the exceptions its scripts threw.
type devToolsEvents struct {
	requests, violations, exceptions []string
}

// openDevTools starts Chromium, as openInChromium does, and opens url in a page that it drives.
func openDevTools(t *testing.T, url string) *devTools {
	t.Helper()
	path := chromiumPath(t)
	cmdRead, cmdWrite, err := os.Pipe()
	require.NoError(t, err)
	outRead, outWrite, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command(path,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-proxy-server", "--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdRead, outWrite} // fds 3 and 4
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	cmdRead.Close()
	outWrite.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	d := &devTools{send: cmdWrite, waiting: map[int]chan devToolsMessage{}, loads: make(chan string, 16)}
	var once sync.Once
	d.stop = func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("chromium (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
			}
			cmdWrite.Close()
			outRead.Close()
			if t.Failed() {
				t.Logf("chromium output:\n%s", stderr.String())
			}
		})
	}
	t.Cleanup(d.stop)
	go d.read(outRead)

	var target struct {
		TargetID string `json:"targetId"`
	}
	d.command(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	d.command(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	d.session = attached.SessionID
	for _, domain := range []string{"Page", "Network", "Log", "Runtime"} {
		d.command(t, d.session, domain+".enable", map[string]any{}, nil)
	}
	d.command(t, d.session, "Page.setLifecycleEventsEnabled", map[string]any{"enabled": true}, nil)
	var nav struct {
		LoaderID  string `json:"loaderId"`
		ErrorText string `json:"errorText"`
	}
	d.command(t, d.session, "Page.navigate", map[string]any{"url": url}, &nav)
	require.Empty(t, nav.ErrorText, "open %s", url)
	// Wait for this document's load event, not about:blank's.
	deadline := time.After(30 * time.Second)
	for loaded := ""; loaded != nav.LoaderID; {
		select {
		case loaded = <-d.loads:
		case <-deadline:
			t.Fatalf("%s did not load within 30s", url)
		}
	}
	return d
}

// read hands each answer to the command waiting for it and keeps the events.
func (d *devTools) read(r *os.File) {
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return // Chromium has exited
		}
		var m devToolsMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		d.mu.Lock()
		if ch, ok := d.waiting[m.ID]; ok && m.ID != 0 {
			delete(d.waiting, m.ID)
			ch <- m
		} else {
			d.event(m)
		}
		d.mu.Unlock()
	}
}

// event records one event; d.mu is held.
func (d *devTools) event(m devToolsMessage) {
	switch m.Method {
	case "Page.lifecycleEvent":
		var p struct {
			LoaderID string `json:"loaderId"`
			Name     string `json:"name"`
		}
		if json.Unmarshal(m.Params, &p) == nil && p.Name == "load" {
			select {
			case d.loads <- p.LoaderID:
			default:
			}
		}
	case "Network.requestWillBeSent":
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(m.Params, &p) == nil {
			d.events.requests = append(d.events.requests, p.Request.URL)
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Source, Level, Text string
			} `json:"entry"`
		}
		if json.Unmarshal(m.Params, &p) == nil && p.Entry.Source == "security" {
			d.events.violations = append(d.events.violations, p.Entry.Text)
		}
	case "Runtime.exceptionThrown":
		d.events.exceptions = append(d.events.exceptions, string(m.Params))
	}
}

// command sends a command, to the page's session or (session "") to the browser, and decodes its
// result into v.
func (d *devTools) command(t *testing.T, session, method string, params any, v any) {
	t.Helper()
	d.mu.Lock()
	d.nextID++
	id := d.nextID
	answer := make(chan devToolsMessage, 1)
	d.waiting[id] = answer
	d.mu.Unlock()
	msg, err := json.Marshal(struct {
		ID        int    `json:"id"`
		Method    string `json:"method"`
		Params    any    `json:"params"`
		SessionID string `json:"sessionId,omitempty"`
	}{id, method, params, session})
	require.NoError(t, err)
	_, err = d.send.Write(append(msg, 0))
	require.NoError(t, err, method)
	select {
	case m := <-answer:
		require.Nil(t, m.Error, "%s: %+v", method, m.Error)
		if v != nil {
			require.NoError(t, json.Unmarshal(m.Result, v), method)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("chromium did not answer %s within 90s", method)
	}
}

// call runs the JavaScript function fn in the page with arg, waits for the promise it returns and
// decodes its value into v.
func (d *devTools) call(t *testing.T, fn string, arg any, v any) {
	t.Helper()
	a, err := json.Marshal(arg)
	require.NoError(t, err)
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	d.command(t, d.session, "Runtime.evaluate", map[string]any{
		"expression": "(" + fn + ")(" + string(a) + ")", "awaitPromise": true, "returnByValue": true,
	}, &res)
	require.Empty(t, res.ExceptionDetails, "the script threw")
	require.NoError(t, json.Unmarshal(res.Result.Value, v))
}

// close stops Chromium and returns what the page did.
func (d *devTools) close(t *testing.T) devToolsEvents {
	t.Helper()
	d.stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.events
}

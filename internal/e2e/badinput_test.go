package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loggedGateway is a gateway process of the test's own whose log lines the test can read.
type loggedGateway struct {
	base string
	mu   sync.Mutex
	logs []map[string]any
}

// startLoggedGateway runs a gateway on the suite's Temporal and task queue, logging at info,
// and keeps every log line it writes until the test ends.
func startLoggedGateway(t *testing.T) *loggedGateway {
	t.Helper()
	g := &loggedGateway{}
	r, w := io.Pipe()
	p, err := startProcess(filepath.Join(binDir, "server"), []string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue,
		// Any task queue, so that Temporal itself judges the reserved name below.
		"GATEWAY_HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=info", "GATEWAY_TASK_QUEUES=*",
	}, w)
	require.NoError(t, err)
	t.Cleanup(func() { p.stop(); _ = w.Close() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				fmt.Fprintln(os.Stderr, sc.Text())
				continue
			}
			g.mu.Lock()
			g.logs = append(g.logs, line)
			g.mu.Unlock()
			if line["msg"] == "gateway listening" {
				addr <- fmt.Sprint(line["addr"])
			}
		}
	}()
	select {
	case a := <-addr:
		g.base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("gateway did not report its address within 30s")
	}
	require.NoError(t, waitReady(g.base))
	return g
}

// errorLines are the lines logged at ERROR level for the request with id requestID.
func (g *loggedGateway) errorLines(requestID string) []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	var lines []map[string]any
	for _, l := range g.logs {
		if l["level"] == "ERROR" && l["request_id"] == requestID {
			lines = append(lines, l)
		}
	}
	return lines
}

// send makes a request with a raw target (path and query exactly as given, escapes included).
func send(t *testing.T, base, method, target, body string, header http.Header) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+target, r)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// TestMalformedValuesAreTheCallersFault sweeps every route of the API with malformed path,
// query, header and body values against the real gateway and dev server: each answers a 4xx
// problem (400 for a malformed value) and none a 5xx, and none is logged at ERROR level.
func TestMalformedValuesAreTheCallersFault(t *testing.T) {
	g := startLoggedGateway(t)
	id := uniqueID(t)
	start(t, "Approval", id, `{"requestId":"r-1","amount":1,"approver":"grace","timeoutSeconds":3600}`)
	t.Cleanup(func() { _ = temporalC.TerminateWorkflow(t.Context(), id, "", "test over") })

	const (
		notUUID    = "not-a-uuid"
		badUTF8    = "%FF"
		badUTF8Seq = "%C3%28"    // a lead byte whose continuation is missing
		surrogate  = "%ED%A0%80" // UTF-16 surrogates are not UTF-8
		noDashes   = "01a2110d1b6977ad9897c51741a70f19"
	)
	// A workflow id of 1000 characters, as the spec allows, but 2000 bytes: more than Temporal's
	// limit on ids, which counts bytes. Temporal refuses to start one; a read finds none.
	longID := strings.Repeat("%C3%A9", 1000)
	longIDJSON := strings.Repeat("é", 1000)

	type request struct {
		method, target, body string
		header               http.Header
	}
	tests := []struct {
		name   string
		req    request
		status int
	}{
		// GET one
		{"get: runId not a UUID", request{"GET", "/workflows/" + id + "?runId=" + notUUID, "", nil}, 400},
		{"get: runId without dashes", request{"GET", "/workflows/" + id + "?runId=" + noDashes, "", nil}, 400},
		{"get: runId not UTF-8", request{"GET", "/workflows/" + id + "?runId=" + badUTF8, "", nil}, 400},
		{"get: workflowId not UTF-8", request{"GET", "/workflows/" + badUTF8, "", nil}, 400},
		{"get: workflowId with a broken sequence", request{"GET", "/workflows/a" + badUTF8Seq, "", nil}, 400},
		{"get: workflowId with a surrogate", request{"GET", "/workflows/" + surrogate, "", nil}, 400},
		{"get: workflowId over Temporal's byte limit", request{"GET", "/workflows/" + longID, "", nil}, 404},
		{"get: unknown workflowId not ASCII", request{"GET", "/workflows/caf%C3%A9-" + id, "", nil}, 404},
		{"get: unknown workflowId with a tab", request{"GET", "/workflows/tab%09" + id, "", nil}, 404},
		{"get: wait not a duration", request{"GET", "/workflows/" + id + "?wait=soon", "", nil}, 400},
		{"get: wait not UTF-8", request{"GET", "/workflows/" + id + "?wait=" + badUTF8, "", nil}, 400},
		// history
		{"history: runId not a UUID", request{"GET", "/workflows/" + id + "/history?runId=" + notUUID, "", nil}, 400},
		{"history: workflowId not UTF-8", request{"GET", "/workflows/" + badUTF8 + "/history", "", nil}, 400},
		{"history: workflowId over Temporal's byte limit", request{"GET", "/workflows/" + longID + "/history", "", nil}, 404},
		{"history: pageSize zero", request{"GET", "/workflows/" + id + "/history?pageSize=0", "", nil}, 400},
		{"history: pageToken not UTF-8", request{"GET", "/workflows/" + id + "/history?pageToken=" + badUTF8, "", nil}, 400},
		// events
		{"events: runId not a UUID", request{"GET", "/workflows/" + id + "/events?runId=" + notUUID, "", nil}, 400},
		{"events: workflowId not UTF-8", request{"GET", "/workflows/" + badUTF8 + "/events", "", nil}, 400},
		// signal
		{"signal: runId not a UUID", request{"POST", "/workflows/" + id + "/signals/decision", `{"runId":"` + notUUID + `"}`, nil}, 400},
		{"signal: workflowId not UTF-8", request{"POST", "/workflows/" + badUTF8 + "/signals/decision", `{}`, nil}, 400},
		{"signal: signalName not UTF-8", request{"POST", "/workflows/" + id + "/signals/" + badUTF8, `{}`, nil}, 400},
		{"signal: workflowId over Temporal's byte limit", request{"POST", "/workflows/" + longID + "/signals/decision", `{}`, nil}, 404},
		// query
		{"query: runId not a UUID", request{"POST", "/workflows/" + id + "/queries/status", `{"runId":"` + notUUID + `"}`, nil}, 400},
		{"query: workflowId not UTF-8", request{"POST", "/workflows/" + badUTF8 + "/queries/status", `{}`, nil}, 400},
		{"query: queryType not UTF-8", request{"POST", "/workflows/" + id + "/queries/" + surrogate, `{}`, nil}, 400},
		// update
		{"update: runId not a UUID", request{"POST", "/workflows/" + id + "/updates/approve", `{"runId":"` + notUUID + `"}`, nil}, 400},
		{"update: workflowId not UTF-8", request{"POST", "/workflows/" + badUTF8 + "/updates/approve", `{}`, nil}, 400},
		{"update: updateName not UTF-8", request{"POST", "/workflows/" + id + "/updates/" + badUTF8, `{}`, nil}, 400},
		// cancel
		{"cancel: runId not a UUID", request{"POST", "/workflows/" + id + "/cancel", `{"runId":"` + notUUID + `"}`, nil}, 400},
		{"cancel: workflowId not UTF-8", request{"POST", "/workflows/" + badUTF8 + "/cancel", `{}`, nil}, 400},
		// terminate
		{"terminate: runId not a UUID", request{"POST", "/workflows/" + id + "/terminate", `{"runId":"` + notUUID + `"}`, nil}, 400},
		{"terminate: workflowId not UTF-8", request{"POST", "/workflows/" + badUTF8 + "/terminate", `{}`, nil}, 400},
		// list
		{"list: status unknown", request{"GET", "/workflows?status=SLEEPING", "", nil}, 400},
		{"list: startedAfter not a time", request{"GET", "/workflows?startedAfter=yesterday", "", nil}, 400},
		{"list: pageSize not a number", request{"GET", "/workflows?pageSize=many", "", nil}, 400},
		{"list: pageToken made up", request{"GET", "/workflows?pageToken=bm90LWEtdG9rZW4", "", nil}, 400},
		{"list: pageToken not UTF-8", request{"GET", "/workflows?pageToken=" + badUTF8, "", nil}, 400},
		{"list: startedBefore beyond the year 9999 in UTC", request{"GET", "/workflows?startedBefore=9999-12-31T23:00:00-14:00", "", nil}, 400},
		{"list: workflowType not UTF-8", request{"GET", "/workflows?workflowType=" + badUTF8, "", nil}, 400},
		// the reference page's files
		{"docs asset: name not UTF-8", request{"GET", "/docs/" + badUTF8, "", nil}, 400},
		// start
		{"start: workflowId over Temporal's byte limit", request{"POST", "/workflows",
			`{"workflowType":"Echo","workflowId":"` + longIDJSON + `"}`, nil}, 400},
		{"start: reserved task queue", request{"POST", "/workflows",
			`{"workflowType":"Echo","workflowId":"` + id + `-q","taskQueue":"/_sys/x"}`, nil}, 400},
		{"start: wait not UTF-8", request{"POST", "/workflows?wait=" + badUTF8, `{"workflowType":"Echo"}`, nil}, 400},
		{"signal-with-start: workflowId over Temporal's byte limit", request{"POST", "/workflows",
			`{"workflowType":"Approval","workflowId":"` + longIDJSON + `","signal":{"name":"decision"}}`, nil}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requestID := "bad-input-" + fmt.Sprint(time.Now().UnixNano())
			header := http.Header{"X-Request-Id": {requestID}}
			for k, v := range tt.req.header {
				header[k] = v
			}
			resp := send(t, g.base, tt.req.method, tt.req.target, tt.req.body, header)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			t.Logf("%s %s: %d %s", tt.req.method, tt.req.target, resp.StatusCode, body)
			assert.Less(t, resp.StatusCode, 500, "body: %s", body)
			assert.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "body: %s", body)
			for _, leak := range []string{"rpc error", "serviceerror", "invalid UTF-8", "marshal", ".go:"} {
				assert.NotContains(t, string(body), leak)
			}
			// The access log line is written once the answer is out; give it a moment.
			time.Sleep(20 * time.Millisecond)
			assert.Empty(t, g.errorLines(requestID), "a caller's mistake is logged at ERROR level")
		})
	}
}

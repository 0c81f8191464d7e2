package handlers_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
)

// The fuzz targets below send arbitrary start bodies and arbitrary request lines through the whole
// router (validator, generated binding, handlers) over the in-memory fake. Whatever arrives, the
// gateway must not panic, must not answer 5xx (the fake never fails, so a 5xx is a gateway bug),
// and must answer every rejection as a problem+json that agrees with its status and leaks nothing.
// `go test` runs the seeds below and the corpus in testdata/fuzz; `go test -fuzz=FuzzStartBody`
// (or FuzzRequestLine) explores further.

// fuzzRouter is the router the fuzz targets share, over a fake that knows one closed execution,
// greeting-ada, so that reads, histories and event streams of it end at once. Waits are capped
// short so that a fuzzed `wait` on a running execution costs milliseconds, not a minute.
func fuzzRouter(t testing.TB) http.Handler {
	fake := &fakeTemporal{executions: []*fakeExecution{
		closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`"done"`))),
	}}
	h, err := handlers.NewRouter(handlers.Options{
		Client:          fake,
		Logger:          slog.New(slog.DiscardHandler),
		TaskQueue:       defaultTaskQueue,
		WorkflowTypes:   workflowTypes,
		MaxBodyBytes:    64 << 10,
		MaxWait:         20 * time.Millisecond,
		ClosedCacheSize: 100,
		TemporalTimeout: time.Second,
		RetryAfter:      time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func FuzzStartBody(f *testing.F) {
	for _, seed := range []struct{ contentType, body string }{
		{"application/json", `{"workflowType":"Greeting","input":{"name":"Ada"}}`},
		{"application/json", `{"workflowType":"Greeting","workflowId":"greeting-ada","input":{"name":"Ada"},"idReusePolicy":"ALLOW_DUPLICATE"}`},
		{"application/json", `{"workflowType":"Sleep","input":{"seconds":1},"taskQueue":"other","memo":{"a":1},"searchAttributes":{"CustomKeywordField":"x"}}`},
		{"application/json", `{"workflowType":"Greeting","executionTimeout":"1h","runTimeout":"30m","taskTimeout":"10s","cronSchedule":"* * * * *"}`},
		{"application/json", `{"workflowType":"Greeting","startDelay":"5s","conflictPolicy":"USE_EXISTING","requestId":"r-1"}`},
		{"application/json", `{"workflowType":"Greeting","input":{"n":` + bigInt + `}}`},
		{"application/json", `{"workflowType":"Greeting"} {"workflowType":"Echo"}`},
		{"application/json", `{"workflowType":"Greeting","workflowType":"Echo"}`},
		{"application/json", `{"workflowType":"NoSuchType"}`},
		{"application/json", `{"workflowType":7}`},
		{"application/json", `{"workflowType":"Greeting","workflowId":""}`},
		{"application/json", `{"workflowType":"Greeting","workflowId":"` + strings.Repeat("x", 2000) + `"}`},
		{"application/json", `{"workflowType":"Greeting","executionTimeout":"-1s"}`},
		{"application/json", `{"workflowType":"Greeting","executionTimeout":"1e400h"}`},
		{"application/json", `{"workflowType":"Greeting","unknown":true}`},
		{"application/json", `{"workflowType":"Greeting","input":"\ud800"}`},
		{"application/json", "{\"workflowType\":\"Gree\x00ting\"}"},
		{"application/json", `[]`},
		{"application/json", `null`},
		{"application/json", `{`},
		{"application/json", ``},
		{"application/json; charset=utf-8", `{"workflowType":"Greeting"}`},
		{"text/plain", `{"workflowType":"Greeting"}`},
		{"", `{"workflowType":"Greeting"}`},
		{"application/json", "\xef\xbb\xbf{\"workflowType\":\"Greeting\"}"},
	} {
		f.Add(seed.contentType, []byte(seed.body))
	}
	h := fuzzRouter(f)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/workflows", strings.NewReader(string(body)))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		checkFuzzedAnswer(t, req, serve(h, req))
	})
}

func FuzzRequestLine(f *testing.F) {
	for _, seed := range []struct{ method, target string }{
		{"GET", "/workflows/greeting-ada"},
		{"GET", "/workflows/greeting-ada?runId=01a2110d-1b69-77ad-9897-000000000001&wait=1s"},
		{"GET", "/workflows/greeting-ada?wait=999999999999h"},
		{"GET", "/workflows/greeting-ada?wait=-1s&wait=2s"},
		{"GET", "/workflows/greeting-ada/history?pageSize=0&nextPageToken=%%%"},
		{"GET", "/workflows/greeting-ada/history?pageSize=1&nextPageToken=bm90LWEtdG9rZW4&waitNewEvent=true"},
		{"GET", "/workflows/greeting-ada/events"},
		{"GET", "/workflows/unknown%2Fid/events"},
		{"GET", "/workflows?status=RUNNING&workflowType=Greeting&pageSize=1000&nextPageToken=x"},
		{"GET", "/workflows?query=WorkflowType%3D%27Greeting%27"},
		{"GET", "/workflows?pageSize=abc"},
		{"POST", "/workflows/greeting-ada/signals/approve"},
		{"POST", "/workflows/greeting-ada/queries/state?runId="},
		{"POST", "/workflows/greeting-ada/updates/approve"},
		{"POST", "/workflows/greeting-ada/cancel"},
		{"POST", "/workflows/greeting-ada/terminate"},
		{"DELETE", "/workflows/greeting-ada"},
		{"GET", "/workflows/%00"},
		{"GET", "/workflows/" + strings.Repeat("a", 3000)},
		{"GET", "/workflows//history"},
		{"GET", "/workflows/%E2%82%AC/history"},
		{"GET", "/workflows/%ff"},
		{"GET", "/workflow-types"},
		{"GET", "/healthz"},
		{"GET", "/readyz"},
		{"GET", "/openapi.yaml"},
		{"OPTIONS", "/workflows"},
		{"PATCH", "/nowhere?x=1"},
	} {
		f.Add(seed.method, seed.target)
	}
	h := fuzzRouter(f)
	f.Fuzz(func(t *testing.T, method, target string) {
		// The request goes through net/http's own parser, as it would from a socket: a request line
		// the server itself refuses (400 before any handler runs) is not the gateway's to answer.
		raw := method + " " + target + " HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil || !validMethod(method) {
			t.Skip()
		}
		checkFuzzedAnswer(t, req, serve(h, req))
	})
}

// validMethod is what net/http's server accepts as a method (an RFC 9110 token); it answers
// anything else 400 itself, before the handler.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range []byte(m) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// checkFuzzedAnswer fails on a 5xx, and on a rejection that is not a problem+json agreeing with
// its status, or that carries internal text.
func checkFuzzedAnswer(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s %s answered %d: %s", req.Method, req.URL, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s %s answered %d as %q: %s", req.Method, req.URL, rec.Code, ct, rec.Body)
	}
	var p gen.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("%s %s answered %d with a body that is not a problem: %v: %s", req.Method, req.URL, rec.Code, err, rec.Body)
	}
	if p.Status != rec.Code || p.Type == "" || p.Title == "" {
		t.Fatalf("%s %s answered %d with problem %+v", req.Method, req.URL, rec.Code, p)
	}
	for _, s := range internalTexts {
		if strings.Contains(rec.Body.String(), s) {
			t.Fatalf("%s %s: a problem body carries internal text %q: %s", req.Method, req.URL, s, rec.Body)
		}
	}
}

package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
)

// longPollFake blocks long polls on a running run until complete is called, as Temporal does,
// and counts them.
type longPollFake struct {
	*fakeTemporal
	longPolls atomic.Int32
	canceled  atomic.Int32
	closeOnce sync.Once
	closed    chan struct{}
}

func newLongPollFake() *longPollFake {
	return &longPollFake{fakeTemporal: &fakeTemporal{executions: []*fakeExecution{{
		workflowID: "sleep-1", runID: "01a2110d-1b69-77ad-9897-000000000001", workflowType: "Sleep", taskQueue: defaultTaskQueue,
		status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, historyLength: 5,
	}}}, closed: make(chan struct{})}
}

// complete closes the run with a result and wakes the long polls.
func (f *longPollFake) complete() {
	f.mu.Lock()
	e := f.executions[0]
	e.status = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	e.historyLength = 9 // the close event's id
	e.closeEvent = completedEvent(jsonPayloads(`{"sleptSeconds":2}`))
	f.mu.Unlock()
	f.closeOnce.Do(func() { close(f.closed) })
}

func (f *longPollFake) GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool, filter enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	if !isLongPoll {
		return f.fakeTemporal.GetWorkflowHistory(ctx, workflowID, runID, isLongPoll, filter)
	}
	f.longPolls.Add(1)
	select {
	case <-f.closed:
		return f.fakeTemporal.GetWorkflowHistory(ctx, workflowID, runID, isLongPoll, filter)
	case <-ctx.Done():
		f.canceled.Add(1)
		return &fakeHistory{err: ctx.Err()}
	}
}

func decode(t *testing.T, body []byte) gen.Execution {
	t.Helper()
	var e gen.Execution
	require.NoError(t, json.Unmarshal(body, &e), "body: %s", body)
	return e
}

func TestWaitersShareOneLongPoll(t *testing.T) {
	fake := newLongPollFake()
	h := newRouter(t, fake)
	const waiters = 50
	var wg sync.WaitGroup
	codes := make([]int, waiters)
	bodies := make([][]byte, waiters)
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := serve(h, newRequest(http.MethodGet, "/workflows/sleep-1?wait=30s", ""))
			codes[i], bodies[i] = rec.Code, rec.Body.Bytes()
		}()
	}
	require.Eventually(t, func() bool { return fake.longPolls.Load() >= 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond) // let every waiter join
	fake.complete()
	wg.Wait()

	for i := range waiters {
		require.Equal(t, http.StatusOK, codes[i])
		e := decode(t, bodies[i])
		assert.Equal(t, gen.ExecutionStatusCOMPLETED, e.Status)
		assert.JSONEq(t, `{"sleptSeconds":2}`, string(*e.Result))
	}
	assert.Equal(t, int32(1), fake.longPolls.Load(), "one long poll for all waiters")
}

func TestWaitEndsWithTheRunStillRunning(t *testing.T) {
	fake := newLongPollFake()
	start := time.Now()
	rec := serve(newRouter(t, fake), newRequest(http.MethodGet, "/workflows/sleep-1?wait=200ms", ""))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, gen.ExecutionStatusRUNNING, decode(t, rec.Body.Bytes()).Status)
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	assert.Eventually(t, func() bool { return fake.canceled.Load() == 1 }, time.Second, time.Millisecond,
		"the last waiter to leave ends the long poll")
}

func TestWaitIsCapped(t *testing.T) {
	fake := newLongPollFake()
	h := newRouter(t, fake, func(o *handlers.Options) { o.MaxWait = 100 * time.Millisecond })
	start := time.Now()
	rec := serve(h, newRequest(http.MethodGet, "/workflows/sleep-1?wait=1h", ""))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestClientThatLeavesReleasesItsWait(t *testing.T) {
	fake := newLongPollFake()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		serve(newRouter(t, fake), newRequest(http.MethodGet, "/workflows/sleep-1?wait=30s", "").WithContext(ctx))
	}()
	require.Eventually(t, func() bool { return fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the request still waits after its client left")
	}
	assert.Eventually(t, func() bool { return fake.canceled.Load() == 1 }, time.Second, time.Millisecond)
}

func TestPostWithWait(t *testing.T) {
	fake := newLongPollFake()
	fake.executions = nil
	h := newRouter(t, fake)
	completed := make(chan struct{})
	go func() {
		defer close(completed)
		// assert, not require: FailNow must not be called outside the test's goroutine.
		if assert.Eventually(t, func() bool { return fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond) {
			fake.complete()
		}
	}()
	rec := serve(h, newRequest(http.MethodPost, "/workflows?wait=10s", `{"workflowType":"Sleep","workflowId":"sleep-1"}`))
	<-completed
	require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
	e := decode(t, rec.Body.Bytes())
	assert.Equal(t, gen.ExecutionStatusCOMPLETED, e.Status)
	require.NotNil(t, e.Result)
	assert.JSONEq(t, `{"sleptSeconds":2}`, string(*e.Result))
	assert.Empty(t, fake.describeCalls(), "the answer comes from the start and the close event")
}

func TestBadWaitIs400(t *testing.T) {
	for _, target := range []string{"/workflows/sleep-1?wait=soon", "/workflows/sleep-1?wait=-1s"} {
		rec := serve(newRouter(t, newLongPollFake()), newRequest(http.MethodGet, target, ""))
		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Equal(t, []fieldRef{{gen.FieldErrorInQuery, "wait"}}, fieldRefs(t, p), target)
	}
}

func TestETagAndClosedCache(t *testing.T) {
	fake := &fakeTemporal{executions: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`1`)))}}
	h := newRouter(t, fake)

	first := serve(h, newRequest(http.MethodGet, "/workflows/greeting-ada?runId=01a2110d-1b69-77ad-9897-000000000001", ""))
	require.Equal(t, http.StatusOK, first.Code)
	tag := first.Header().Get("ETag")
	require.NotEmpty(t, tag)
	assert.Equal(t, "private, max-age=31536000, immutable", first.Header().Get("Cache-Control"))
	describes := len(fake.describes)

	for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
		req := newRequest(http.MethodGet, "/workflows/greeting-ada?runId=01a2110d-1b69-77ad-9897-000000000001", "")
		req.Header.Set("If-None-Match", inm)
		rec := serve(h, req)
		assert.Equal(t, http.StatusNotModified, rec.Code, inm)
		assert.Empty(t, rec.Body.String())
		assert.Equal(t, tag, rec.Header().Get("ETag"))
	}
	req := newRequest(http.MethodGet, "/workflows/greeting-ada?runId=01a2110d-1b69-77ad-9897-000000000001", "")
	req.Header.Set("If-None-Match", `"stale"`)
	assert.Equal(t, http.StatusOK, serve(h, req).Code)
	assert.Equal(t, describes, len(fake.describes), "a closed run read by run id is served without Temporal")

	latest := serve(h, newRequest(http.MethodGet, "/workflows/greeting-ada", ""))
	assert.Equal(t, "no-cache", latest.Header().Get("Cache-Control"), "the latest run of an id can change")
	assert.Equal(t, tag, latest.Header().Get("ETag"))
}

func TestWatchStreamsRunningThenClosed(t *testing.T) {
	fake := newLongPollFake()
	srv := httptest.NewServer(newRouter(t, fake))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/workflows/sleep-1/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	sc := bufio.NewScanner(resp.Body)
	var statuses []gen.ExecutionStatus
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		statuses = append(statuses, decode(t, []byte(data)).Status)
		if len(statuses) == 1 {
			fake.complete() // the first event arrived before the run closed: it is live
		}
	}
	assert.Equal(t, []gen.ExecutionStatus{gen.ExecutionStatusRUNNING, gen.ExecutionStatusCOMPLETED}, statuses)
	assert.Equal(t, int32(1), fake.longPolls.Load())
}

func TestWatchErrors(t *testing.T) {
	rec := serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodGet, "/workflows/nope/events", ""))
	requireProblem(t, rec, "urn:temporal-http:problem:workflow-not-found")
	rec = serve(newRouter(t, &fakeTemporal{describeErr: serviceerror.NewUnavailable(secret)}), newRequest(http.MethodGet, "/workflows/nope/events", ""))
	requireProblem(t, rec, "urn:temporal-http:problem:temporal-unavailable")
	rec = serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodGet, "/workflows/nope/events?runId=", ""))
	requireProblem(t, rec, "urn:temporal-http:problem:validation")
}

func TestDrainingEndsWaitsAndStreamsWithTheRunAsItIs(t *testing.T) {
	fake := newLongPollFake()
	draining := make(chan struct{})
	h := newRouter(t, fake, func(o *handlers.Options) { o.Draining = draining })

	waitDone := make(chan *httptest.ResponseRecorder, 1)
	go func() { waitDone <- serve(h, newRequest(http.MethodGet, "/workflows/sleep-1?wait=30s", "")) }()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/workflows/sleep-1/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Eventually(t, func() bool { return fake.longPolls.Load() >= 1 }, 5*time.Second, time.Millisecond)

	start := time.Now()
	close(draining)
	select {
	case rec := <-waitDone:
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, gen.ExecutionStatusRUNNING, decode(t, rec.Body.Bytes()).Status)
	case <-time.After(5 * time.Second):
		t.Fatal("a wait went on after the gateway began to drain")
	}
	streamEnded := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
		}
		close(streamEnded)
	}()
	select {
	case <-streamEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("an event stream went on after the gateway began to drain")
	}
	assert.Less(t, time.Since(start), 2*time.Second)

	// A wait that arrives while draining answers at once.
	start = time.Now()
	rec := serve(h, newRequest(http.MethodGet, "/workflows/sleep-1?wait=30s", ""))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Less(t, time.Since(start), time.Second)
}

// A reader that names a run others already wait on joins their long poll without a Describe: at
// the close it gets the shared final Execution, and when its own wait passes first, a fresh read.
func TestReadersOfAPolledRunByRunIDSkipTheDescribe(t *testing.T) {
	fake := newLongPollFake()
	h := newRouter(t, fake)
	first := make(chan *httptest.ResponseRecorder, 1)
	go func() { first <- serve(h, newRequest(http.MethodGet, "/workflows/sleep-1?wait=30s", "")) }()
	require.Eventually(t, func() bool { return fake.longPolls.Load() == 1 }, 5*time.Second, time.Millisecond)
	require.Len(t, fake.describeCalls(), 1)

	const readers = 20
	var wg sync.WaitGroup
	recs := make([]*httptest.ResponseRecorder, readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i] = serve(h, newRequest(http.MethodGet, "/workflows/sleep-1?runId=01a2110d-1b69-77ad-9897-000000000001&wait=30s", ""))
		}()
	}
	short := serve(h, newRequest(http.MethodGet, "/workflows/sleep-1?runId=01a2110d-1b69-77ad-9897-000000000001&wait=100ms", ""))
	require.Equal(t, http.StatusOK, short.Code)
	assert.Equal(t, gen.ExecutionStatusRUNNING, decode(t, short.Body.Bytes()).Status)
	assert.Equal(t, ptr(int64(5)), decode(t, short.Body.Bytes()).HistoryLength, "a wait that passes answers a fresh read")
	assert.Len(t, fake.describeCalls(), 2, "only the first reader and the one whose wait passed described the run")

	fake.complete()
	wg.Wait()
	for _, rec := range append(recs, <-first) {
		require.Equal(t, http.StatusOK, rec.Code)
		e := decode(t, rec.Body.Bytes())
		assert.Equal(t, gen.ExecutionStatusCOMPLETED, e.Status)
		assert.Equal(t, ptr(int64(9)), e.HistoryLength)
		assert.NotEmpty(t, rec.Header().Get("ETag"))
	}
	assert.Equal(t, int32(1), fake.longPolls.Load())
	assert.Len(t, fake.describeCalls(), 3, "and the close was described once for all")
}

package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// temporalCalls counts the calls of the named operations that the dev server's frontend has
// served, from its own metrics (a long poll counts once it has returned). The dev server reports
// each API call it receives under its DC-redirection layer's name.
func temporalCalls(t *testing.T, operations ...string) float64 {
	t.Helper()
	resp, err := http.Get(temporalMetrics)
	require.NoError(t, err)
	defer resp.Body.Close()
	var total float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "client_redirection_latency_count{") {
			continue
		}
		for _, op := range operations {
			if strings.Contains(line, `operation="DCRedirection`+op+`"`) {
				v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
				require.NoError(t, err, line)
				total += v
			}
		}
	}
	return total
}

// settledTemporalCalls reads temporalCalls once the server's metrics reporter, which publishes
// on an interval, has caught up with the calls already made.
func settledTemporalCalls(t *testing.T, operations ...string) float64 {
	t.Helper()
	time.Sleep(1500 * time.Millisecond)
	return temporalCalls(t, operations...)
}

func TestWaitOnGetReturnsWhenTheRunCloses(t *testing.T) {
	c := api(t)
	before := settledTemporalCalls(t, "GetWorkflowExecutionHistory")
	began := time.Now()
	id, params := locate(t, start(t, "Sleep", uniqueID(t), `{"seconds":2}`).Headers201.Location)
	params.Wait = ptr("10s")

	const waiters = 50
	type answer struct {
		r   *client.GetWorkflowResponse
		err error
	}
	var wg sync.WaitGroup
	answers := make([]answer, waiters)
	for i := range waiters {
		wg.Go(func() {
			r, err := c.GetWorkflowWithResponse(t.Context(), id, params)
			answers[i] = answer{r, err}
		})
	}
	wg.Wait()
	took := time.Since(began)

	for _, a := range answers {
		require.NoError(t, a.err)
		require.Equal(t, http.StatusOK, a.r.StatusCode(), "body: %s", a.r.Body)
		require.NotNil(t, a.r.JSON200, "body: %s", a.r.Body)
		assert.Equal(t, client.ExecutionStatusCOMPLETED, a.r.JSON200.Status, "one read with wait=10s must see a 2s Sleep close")
		require.NotNil(t, a.r.JSON200.Result)
		assert.JSONEq(t, `{"sleptSeconds":2}`, string(*a.r.JSON200.Result))
	}
	assert.InDelta(t, 2.0, took.Seconds(), 1.0, "the waits end when the 2-second run closes, not when they run out")
	calls := settledTemporalCalls(t, "GetWorkflowExecutionHistory") - before
	t.Logf("%d waiters answered %s after the start; Temporal served %v history calls meanwhile", waiters, took.Round(time.Millisecond), calls)
	assert.GreaterOrEqual(t, calls, 1.0, "the long poll is counted")
	assert.LessOrEqual(t, calls, 2.0, "50 waiters share one long poll (a worker's history fetch may add one)")
}

func TestWaitRunsOutWithTheExecutionStillRunning(t *testing.T) {
	id := uniqueID(t)
	start(t, "Sleep", id, `{"seconds":30}`)
	began := time.Now()
	r := get(t, id, &client.GetWorkflowParams{Wait: ptr("1s")})
	assert.Equal(t, client.ExecutionStatusRUNNING, r.JSON200.Status)
	assert.InDelta(t, 1.0, time.Since(began).Seconds(), 0.5)
	_, _ = api(t).TerminateWorkflowWithResponse(t.Context(), id, client.StopRequest{})
}

// startGreetingAndWait starts a Greeting with wait=10s and requires the 201 to carry the result.
func startGreetingAndWait(t *testing.T) *client.StartWorkflowResponse {
	t.Helper()
	r, err := api(t).StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("10s")},
		client.StartWorkflowRequest{WorkflowType: "Greeting", Input: rawJSON(`{"name":"Ada"}`)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON201, "body: %s", r.Body)
	require.NotNil(t, r.Headers201)
	return r
}

func TestPostWithWaitReturnsTheResult(t *testing.T) {
	e := startGreetingAndWait(t).JSON201
	require.Equal(t, client.ExecutionStatusCOMPLETED, e.Status)
	require.NotNil(t, e.Result)
	assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*e.Result))
}

func TestETag(t *testing.T) {
	c := api(t)
	id, params := locate(t, startGreetingAndWait(t).Headers201.Location)
	require.NotNil(t, params.RunId, "the Location names the run")

	first := get(t, id, params)
	require.NotNil(t, first.Headers200)
	tag := first.Headers200.ETag
	require.NotEmpty(t, tag)
	assert.Contains(t, first.Headers200.CacheControl, "immutable", "a closed run named by its run id never changes")

	again, err := c.GetWorkflowWithResponse(t.Context(), id, &client.GetWorkflowParams{RunId: params.RunId, IfNoneMatch: &tag})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotModified, again.StatusCode())
	assert.Empty(t, again.Body)
	assert.Nil(t, again.JSON200)
	require.NotNil(t, again.Headers304)
	assert.Equal(t, tag, again.Headers304.ETag)

	t.Run("a closed run is served without asking Temporal", func(t *testing.T) {
		before := settledTemporalCalls(t, "GetWorkflowExecutionHistory", "DescribeWorkflowExecution")
		require.Positive(t, before, "the metric counts calls: this run has described executions already")
		for range 5 {
			get(t, id, params)
		}
		assert.Equal(t, before, settledTemporalCalls(t, "GetWorkflowExecutionHistory", "DescribeWorkflowExecution"))
	})
	t.Run("a running execution's tag changes when it does", func(t *testing.T) {
		id := uniqueID(t)
		start(t, "Sleep", id, `{"seconds":1}`)
		running := get(t, id, nil)
		require.NotNil(t, running.Headers200)
		assert.Equal(t, "no-cache", running.Headers200.CacheControl)
		done := get(t, id, &client.GetWorkflowParams{Wait: ptr("10s")})
		require.Equal(t, client.ExecutionStatusCOMPLETED, done.JSON200.Status)
		require.NotNil(t, done.Headers200)
		assert.NotEqual(t, running.Headers200.ETag, done.Headers200.ETag)
	})
}

func TestEventsStreamRunningThenCompleted(t *testing.T) {
	id := uniqueID(t)
	start(t, "Sleep", id, `{"seconds":2}`)
	// WatchWorkflowWithResponse would read the whole stream into Body before answering, and the
	// client has no type for text/event-stream: the plain client method answers the *http.Response,
	// whose body is read here event by event.
	resp, err := api(t).WatchWorkflow(t.Context(), id, nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	var statuses []client.ExecutionStatus
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() { // ends when the server closes the stream after the run closed
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e client.Execution
		require.NoError(t, json.Unmarshal([]byte(data), &e))
		statuses = append(statuses, e.Status)
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, []client.ExecutionStatus{client.ExecutionStatusRUNNING, client.ExecutionStatusCOMPLETED}, statuses)
}

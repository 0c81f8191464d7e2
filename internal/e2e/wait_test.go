package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
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
	before := settledTemporalCalls(t, "GetWorkflowExecutionHistory")
	id := uniqueID(t)
	began := time.Now()
	r := start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":2}}`)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	location := r.header.Get("Location")

	const waiters = 50
	var wg sync.WaitGroup
	results := make([]response, waiters)
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = do(t, http.MethodGet, location+"&wait=10s", "", "")
		}()
	}
	wg.Wait()
	took := time.Since(began)

	for _, res := range results {
		require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
		e := execution(t, res)
		assert.Equal(t, gen.ExecutionStatusCOMPLETED, e.Status)
		assert.JSONEq(t, `{"sleptSeconds":2}`, string(*e.Result))
	}
	assert.InDelta(t, 2.0, took.Seconds(), 1.0, "the waits end when the 2-second run closes, not when they run out")
	calls := settledTemporalCalls(t, "GetWorkflowExecutionHistory") - before
	t.Logf("%d waiters answered %s after the start; Temporal served %v history calls meanwhile", waiters, took.Round(time.Millisecond), calls)
	assert.GreaterOrEqual(t, calls, 1.0, "the long poll is counted")
	assert.LessOrEqual(t, calls, 2.0, "50 waiters share one long poll (a worker's history fetch may add one)")
}

func TestWaitRunsOutWithTheExecutionStillRunning(t *testing.T) {
	id := uniqueID(t)
	require.Equal(t, http.StatusCreated, start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":30}}`).status)
	began := time.Now()
	r := do(t, http.MethodGet, "/workflows/"+id+"?wait=1s", "", "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, gen.ExecutionStatusRUNNING, execution(t, r).Status)
	assert.InDelta(t, 1.0, time.Since(began).Seconds(), 0.5)
	_ = post(t, "/workflows/"+id+"/terminate", `{}`)
}

func TestPostWithWaitReturnsTheResult(t *testing.T) {
	r := do(t, http.MethodPost, "/workflows?wait=10s", "application/json", `{"workflowType":"Greeting","input":{"name":"Ada"}}`)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	e := execution(t, r)
	require.Equal(t, gen.ExecutionStatusCOMPLETED, e.Status)
	assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*e.Result))
}

func TestETag(t *testing.T) {
	r := do(t, http.MethodPost, "/workflows?wait=10s", "application/json", `{"workflowType":"Greeting","input":{"name":"Ada"}}`)
	require.Equal(t, http.StatusCreated, r.status)
	location := r.header.Get("Location")

	first := do(t, http.MethodGet, location, "", "")
	require.Equal(t, http.StatusOK, first.status)
	tag := first.header.Get("ETag")
	require.NotEmpty(t, tag)
	assert.Contains(t, first.header.Get("Cache-Control"), "immutable", "a closed run named by its run id never changes")

	req, err := http.NewRequest(http.MethodGet, gatewayURL+location, nil)
	require.NoError(t, err)
	req.Header.Set("If-None-Match", tag)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	assert.Empty(t, body)
	assert.Equal(t, tag, resp.Header.Get("ETag"))

	t.Run("a closed run is served without asking Temporal", func(t *testing.T) {
		before := settledTemporalCalls(t, "GetWorkflowExecutionHistory", "DescribeWorkflowExecution")
		require.Positive(t, before, "the metric counts calls: this run has described executions already")
		for range 5 {
			require.Equal(t, http.StatusOK, do(t, http.MethodGet, location, "", "").status)
		}
		assert.Equal(t, before, settledTemporalCalls(t, "GetWorkflowExecutionHistory", "DescribeWorkflowExecution"))
	})
	t.Run("a running execution's tag changes when it does", func(t *testing.T) {
		id := uniqueID(t)
		require.Equal(t, http.StatusCreated, start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":1}}`).status)
		running := do(t, http.MethodGet, "/workflows/"+id, "", "")
		assert.Equal(t, "no-cache", running.header.Get("Cache-Control"))
		done := do(t, http.MethodGet, "/workflows/"+id+"?wait=10s", "", "")
		require.Equal(t, gen.ExecutionStatusCOMPLETED, execution(t, done).Status)
		assert.NotEqual(t, running.header.Get("ETag"), done.header.Get("ETag"))
	})
}

func TestEventsStreamRunningThenCompleted(t *testing.T) {
	id := uniqueID(t)
	require.Equal(t, http.StatusCreated, start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":2}}`).status)
	resp, err := http.Get(gatewayURL + "/workflows/" + id + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	var statuses []gen.ExecutionStatus
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() { // ends when the server closes the stream after the run closed
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e gen.Execution
		require.NoError(t, json.Unmarshal([]byte(data), &e))
		statuses = append(statuses, e.Status)
	}
	assert.Equal(t, []gen.ExecutionStatus{gen.ExecutionStatusRUNNING, gen.ExecutionStatusCOMPLETED}, statuses)
}

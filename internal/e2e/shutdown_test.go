package e2e

import (
	"bufio"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
)

// TestSIGTERMAnswersWaitsAndStreamsThenExits sends SIGTERM to a gateway holding long waits, an
// event stream and a start with a wait, and shows that every one of them is answered at once with
// the execution as it is, that the process exits cleanly well within its deadline, and that it
// then accepts nothing more.
func TestSIGTERMAnswersWaitsAndStreamsThenExits(t *testing.T) {
	gw, base, err := startGateway([]string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue,
		"GATEWAY_HTTP_ADDR=127.0.0.1:0", "GATEWAY_SHUTDOWN_TIMEOUT=20s",
	})
	require.NoError(t, err)
	defer gw.stop()
	require.NoError(t, waitReady(base))
	c := apiAt(t, base)

	sleeping := uniqueID(t)
	start(t, "Sleep", sleeping, `{"seconds":60}`)

	type answer struct {
		status int
		exec   *client.Execution
		err    error
		at     time.Time
	}
	const waiters = 5
	answers := make(chan answer, waiters+1)
	var wg sync.WaitGroup
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.GetWorkflowWithResponse(t.Context(), sleeping, &client.GetWorkflowParams{Wait: ptr("50s")})
			if err != nil {
				answers <- answer{err: err, at: time.Now()}
				return
			}
			answers <- answer{status: r.StatusCode(), exec: r.JSON200, at: time.Now()}
		}()
	}
	// A start that waits for a 60-second run: it was accepted, so it must be answered (201).
	started := uniqueID(t)
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := c.StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("50s")},
			client.StartWorkflowRequest{WorkflowType: "Sleep", WorkflowId: &started, Input: rawJSON(`{"seconds":60}`)})
		if err != nil {
			answers <- answer{err: err, at: time.Now()}
			return
		}
		answers <- answer{status: r.StatusCode(), exec: r.JSON201, at: time.Now()}
	}()
	stream, err := http.Get(base + "/workflows/" + sleeping + "/events")
	require.NoError(t, err)
	defer stream.Body.Close()
	streamEnded := make(chan time.Time, 1)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
		}
		streamEnded <- time.Now()
	}()
	// Let every request reach its wait.
	require.Eventually(t, func() bool {
		r, err := c.GetWorkflowWithResponse(t.Context(), started, nil)
		return err == nil && r.StatusCode() == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second)

	sigterm := time.Now()
	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGTERM))
	wg.Wait()
	close(answers)
	for a := range answers {
		require.NoError(t, a.err, "a request in flight at SIGTERM was cut off")
		assert.Contains(t, []int{http.StatusOK, http.StatusCreated}, a.status)
		require.NotNil(t, a.exec)
		assert.Equal(t, client.ExecutionStatusRUNNING, a.exec.Status, "answered with the execution as it is")
		assert.Less(t, a.at.Sub(sigterm), 5*time.Second, "answered at once, not at the shutdown deadline")
	}
	select {
	case at := <-streamEnded:
		assert.Less(t, at.Sub(sigterm), 5*time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("the event stream was still open 10s after SIGTERM")
	}
	select {
	case <-gw.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway had not exited 10s after SIGTERM")
	}
	assert.Equal(t, 0, gw.cmd.ProcessState.ExitCode(), "a clean shutdown exits 0")
	assert.Less(t, time.Since(sigterm), 10*time.Second)

	_, err = http.Get(base + "/healthz")
	require.Error(t, err, "nothing is accepted after shutdown")
	assert.True(t, strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "reset"), err.Error())
}

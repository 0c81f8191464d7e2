package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/temporalhttp/gateway/client"
	"github.com/temporalhttp/gateway/internal/devserver"
	"github.com/temporalhttp/gateway/internal/faulttest"
	"github.com/temporalhttp/gateway/internal/temporal"
)

// The fault-injection suite breaks one part of the stack on purpose in each test: the worker is
// killed, the dev server stops, a storm of duplicate starts arrives, the gateway is told to stop
// under load. Each test runs on a task queue of its own, with its own processes where it breaks
// them, so the suite's shared worker and gateway carry on undisturbed.

// startWorker runs a worker binary of its own with env and stops it when the test ends.
func startWorker(t *testing.T, env ...string) *process {
	t.Helper()
	p, err := startProcess(filepath.Join(binDir, "worker"), append([]string{"LOG_LEVEL=warn"}, env...), os.Stderr)
	require.NoError(t, err)
	t.Cleanup(p.stop)
	return p
}

// startOn starts workflowType as id on queue through c and requires a 201; it returns the run id.
func startOn(t *testing.T, c *client.ClientWithResponses, queue, workflowType, id, input string) string {
	t.Helper()
	r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
		WorkflowType: workflowType, WorkflowId: &id, TaskQueue: &queue, Input: rawJSON(input)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	return r.JSON201.RunId
}

// closedRun waits through c until the run is no longer RUNNING and returns it.
func closedRun(t *testing.T, c *client.ClientWithResponses, id, runID string) client.Execution {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := c.GetWorkflowWithResponse(t.Context(), id, &client.GetWorkflowParams{RunId: &runID, Wait: ptr("20s")})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		if r.JSON200.Status != client.ExecutionStatusRUNNING {
			return *r.JSON200
		}
		require.True(t, time.Now().Before(deadline), "%s still RUNNING after 60s", id)
	}
}

// TestFaultWorkerKilledMidExecution kills a worker with SIGKILL while Sleep timers run and while
// every MoneyTransfer has moved money but not yet reported it, restarts a worker on the same
// ledger file, and checks that every execution completes with its result, that each withdrawal
// ran again after the kill, and that the ledger moved each amount exactly once.
func TestFaultWorkerKilledMidExecution(t *testing.T) {
	queue := uniqueID(t)
	ledger := filepath.Join(t.TempDir(), "bank.json")
	env := []string{"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + queue, "WORKER_BANK_FILE=" + ledger}
	// Every movement is held for longer than the activity's 10s timeout after it is recorded, so
	// the kill falls between "the money moved" and "the activity reported it", the case where a
	// forgetful ledger would withdraw twice.
	doomed := startWorker(t, append(env, "WORKER_BANK_DELAY=60s")...)
	c := api(t)

	type run struct{ id, runID string }
	var sleeps []run
	for i := range 3 {
		id := fmt.Sprintf("%s-sleep-%d", queue, i)
		sleeps = append(sleeps, run{id, startOn(t, c, queue, "Sleep", id, `{"seconds":5}`)})
	}
	type transfer struct {
		run
		amount int64
	}
	var transfers []transfer
	var total int64
	for i := range 4 {
		id := fmt.Sprintf("%s-transfer-%d", queue, i)
		amount := int64(100 * (i + 1))
		input := fmt.Sprintf(`{"fromAccount":"alice","toAccount":"bob","amount":%d,"referenceId":%q}`, amount, id)
		transfers = append(transfers, transfer{run{id, startOn(t, c, queue, "MoneyTransfer", id, input)}, amount})
		total += amount
	}

	recorded := func() bool {
		l := faulttest.ReadLedger(t, ledger)
		for _, tr := range transfers {
			if l.Transfers[tr.id].Withdrawal == "" { // the reference is the workflow id
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(20 * time.Second); !recorded(); time.Sleep(20 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "withdrawals not all recorded within 20s")
	}
	require.NoError(t, doomed.cmd.Process.Kill())
	<-doomed.done
	killed := time.Now()
	atKill := faulttest.ReadLedger(t, ledger)
	assert.Equal(t, len(transfers), atKill.Transactions, "the kill fell before any deposit")
	for _, s := range sleeps {
		r, err := c.GetWorkflowWithResponse(t.Context(), s.id, &client.GetWorkflowParams{RunId: &s.runID})
		require.NoError(t, err)
		assert.Equal(t, client.ExecutionStatusRUNNING, r.JSON200.Status, "the kill fell while %s slept", s.id)
	}

	startWorker(t, env...)
	for _, s := range sleeps {
		e := closedRun(t, c, s.id, s.runID)
		require.Equal(t, client.ExecutionStatusCOMPLETED, e.Status, "%s: %+v", s.id, e.Failure)
		assert.JSONEq(t, `{"sleptSeconds":5}`, string(*e.Result))
	}
	results := map[string]temporal.MoneyTransferResult{}
	for _, tr := range transfers {
		e := closedRun(t, c, tr.id, tr.runID)
		require.Equal(t, client.ExecutionStatusCOMPLETED, e.Status, "%s: %+v", tr.id, e.Failure)
		var res temporal.MoneyTransferResult
		require.NoError(t, json.Unmarshal(*e.Result, &res))
		assert.Equal(t, tr.id, res.ReferenceID)
		results[tr.runID] = res
		assert.Equal(t, int32(2), faulttest.WithdrawAttempt(t, temporalC, tr.id, tr.runID), "%s: the withdrawal ran again after the kill", tr.id)
	}
	t.Logf("every execution completed %s after the kill", time.Since(killed).Round(100*time.Millisecond))

	after := faulttest.ReadLedger(t, ledger)
	assert.Equal(t, 2*len(transfers), after.Transactions, "one withdrawal and one deposit per transfer, nothing more")
	assert.Len(t, after.Transfers, len(transfers))
	for _, tr := range transfers {
		assert.Equal(t, atKill.Transfers[tr.id].Withdrawal, after.Transfers[tr.id].Withdrawal)
		assert.Equal(t, after.Transfers[tr.id].Withdrawal, results[tr.runID].WithdrawalID,
			"the retried withdrawal answered the transaction made before the kill")
		assert.Equal(t, after.Transfers[tr.id].Deposit, results[tr.runID].DepositID)
	}
	assert.Equal(t, map[string]int64{"alice": 100_000 - total, "bob": 50_000 + total, "charlie": 0}, after.Balances)
}

// TestFaultDevServerRestartedOnItsFile stops a dev server of its own (SIGTERM, then SIGKILL) while
// a gateway and a worker use it, checks that the gateway answers 503 with Retry-After meanwhile,
// then restarts the dev server on the same SQLite file and port: the same gateway process becomes
// ready again, and every execution started before the outage is still readable and completes.
func TestFaultDevServerRestartedOnItsFile(t *testing.T) {
	port, err := freePort()
	require.NoError(t, err)
	uiPort, err := freePort()
	require.NoError(t, err)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "temporal.log"))
	require.NoError(t, err)
	defer logFile.Close()
	opts := devserver.Options{CLI: cliPath, IP: "127.0.0.1", Port: port, UIPort: uiPort, Namespace: "default",
		DBFile: filepath.Join(t.TempDir(), "t.db"), Output: logFile}
	dev, err := devserver.Start(t.Context(), opts)
	require.NoError(t, err)
	defer func() { dev.Stop(10 * time.Second) }()

	queue := uniqueID(t)
	env := []string{"TEMPORAL_ADDRESS=" + opts.IP + ":" + fmt.Sprint(port), "TEMPORAL_TASK_QUEUE=" + queue}
	startWorker(t, env...)
	gw, base, err := startGateway(append(env, "GATEWAY_HTTP_ADDR=127.0.0.1:0", "GATEWAY_TEMPORAL_TIMEOUT=3s"))
	require.NoError(t, err)
	defer gw.stop()
	require.NoError(t, waitReady(base))
	c := apiAt(t, base)

	greeting := queue + "-greeting"
	greetingRun := startOn(t, c, queue, "Greeting", greeting, `{"name":"Ada"}`)
	require.Equal(t, client.ExecutionStatusCOMPLETED, closedRun(t, c, greeting, greetingRun).Status)
	sleeps := map[string]string{}
	for i := range 3 {
		id := fmt.Sprintf("%s-sleep-%d", queue, i)
		sleeps[id] = startOn(t, c, queue, "Sleep", id, `{"seconds":6}`)
	}

	stopped := time.Now()
	dev.Stop(10 * time.Second)
	t.Logf("dev server stopped in %s", time.Since(stopped).Round(10*time.Millisecond))

	unavailable := func(t *testing.T, r typedResponse, p *client.Problem, h http.Header) {
		t.Helper()
		apiProblem(t, r, p, http.StatusServiceUnavailable, "urn:temporal-http:problem:temporal-unavailable")
		assert.NotEmpty(t, h.Get("Retry-After"))
	}
	t.Run("reads answer 503 during the outage", func(t *testing.T) {
		for _, id := range []string{greeting, queue + "-sleep-0"} { // latest run: only Temporal knows it
			began := time.Now()
			r, err := c.GetWorkflowWithResponse(t.Context(), id, nil)
			require.NoError(t, err)
			unavailable(t, r, r.ApplicationproblemJSON503, r.HTTPResponse.Header)
			t.Logf("GET %s: %d in %s", id, r.StatusCode(), time.Since(began).Round(time.Millisecond))
		}
	})
	t.Run("starts answer 503 during the outage", func(t *testing.T) {
		began := time.Now()
		id := queue + "-during"
		r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
			WorkflowType: "Greeting", WorkflowId: &id, TaskQueue: &queue, Input: rawJSON(`{"name":"Grace"}`)})
		require.NoError(t, err)
		unavailable(t, r, r.ApplicationproblemJSON503, r.HTTPResponse.Header)
		t.Logf("POST: %d in %s", r.StatusCode(), time.Since(began).Round(time.Millisecond))
	})
	resp, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "not ready without Temporal")

	restarted := time.Now()
	dev, err = devserver.Start(t.Context(), opts)
	require.NoError(t, err)
	require.NoError(t, waitReady(base), "the same gateway process is ready again")
	t.Logf("outage %s; gateway ready %s after the dev server was restarted",
		restarted.Sub(stopped).Round(100*time.Millisecond), time.Since(restarted).Round(100*time.Millisecond))
	select {
	case <-gw.done:
		t.Fatal("the gateway exited during the outage")
	default:
	}

	r, err := c.GetWorkflowWithResponse(t.Context(), greeting, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	assert.Equal(t, greetingRun, r.JSON200.RunId)
	assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*r.JSON200.Result))
	for id, runID := range sleeps {
		e := closedRun(t, c, id, runID)
		require.Equal(t, client.ExecutionStatusCOMPLETED, e.Status, "%s: %+v", id, e.Failure)
		assert.JSONEq(t, `{"sleptSeconds":6}`, string(*e.Result))
	}
}

// TestFaultConcurrentDuplicateStartsMakeOneExecution sends 200 starts of one workflow id at
// once through the suite's gateway: with the default conflict policy (FAIL) exactly one answers
// 201 and every other one 409 naming that run, and Temporal holds exactly one execution.
func TestFaultConcurrentDuplicateStartsMakeOneExecution(t *testing.T) {
	const starts = 200
	id, queue := uniqueID(t), uniqueID(t) // no worker polls the queue: the run stays RUNNING
	c, err := client.NewClientWithResponses(gatewayURL, client.WithHTTPClient(&http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: starts}, Timeout: 30 * time.Second}))
	require.NoError(t, err)
	req := client.StartWorkflowRequest{WorkflowType: "Sleep", WorkflowId: &id, TaskQueue: &queue,
		Input: rawJSON(`{"seconds":1}`), ExecutionTimeout: ptr("2m")}

	responses := make([]*client.StartWorkflowResponse, starts)
	errs := make([]error, starts)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range starts {
		wg.Go(func() {
			<-gate
			responses[i], errs[i] = c.StartWorkflowWithResponse(t.Context(), nil, req)
		})
	}
	began := time.Now()
	close(gate)
	wg.Wait()
	t.Logf("%d concurrent starts answered in %s", starts, time.Since(began).Round(time.Millisecond))

	var runID string
	created, conflicts := 0, 0
	for i, r := range responses {
		require.NoError(t, errs[i])
		if r.StatusCode() == http.StatusCreated {
			created++
			runID = r.JSON201.RunId
		}
	}
	require.Equal(t, 1, created, "exactly one start created the execution")
	for _, r := range responses {
		if r.StatusCode() == http.StatusCreated {
			continue
		}
		p := apiProblem(t, r, r.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-already-started")
		assert.Equal(t, id, *p.WorkflowId)
		assert.Equal(t, runID, *p.RunId, "every conflict names the one run")
		conflicts++
	}
	assert.Equal(t, starts-1, conflicts)

	desc, err := temporalC.DescribeWorkflowExecution(t.Context(), id, "")
	require.NoError(t, err)
	assert.Equal(t, runID, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	query := fmt.Sprintf("WorkflowId = '%s'", id)
	var runs []string
	require.Eventually(t, func() bool {
		list, err := temporalC.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			return false
		}
		runs = runs[:0]
		for _, e := range list.GetExecutions() {
			runs = append(runs, e.GetExecution().GetRunId())
		}
		return len(runs) > 0
	}, 10*time.Second, 100*time.Millisecond, "the execution is listed")
	assert.Equal(t, []string{runID}, runs, "Temporal holds one execution of the id")
	_ = temporalC.TerminateWorkflow(context.WithoutCancel(t.Context()), id, runID, "test over")
}

// TestFaultGatewaySIGTERMUnderLoadLosesNoAcceptedStart sends SIGTERM to a gateway of its own while
// clients start workflows as fast as they can. Every 201 must name an execution that Temporal
// holds; a request that got no answer may or may not have started one; no answer may be a 5xx
// other than 503 with Retry-After; and the gateway exits 0.
func TestFaultGatewaySIGTERMUnderLoadLosesNoAcceptedStart(t *testing.T) {
	queue := uniqueID(t) // no worker polls it; the executions time out by themselves
	gw, base, err := startGateway([]string{"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + queue,
		"GATEWAY_HTTP_ADDR=127.0.0.1:0", "GATEWAY_SHUTDOWN_TIMEOUT=20s"})
	require.NoError(t, err)
	defer gw.stop()
	require.NoError(t, waitReady(base))
	const loaders = 16
	c, err := client.NewClientWithResponses(base, client.WithHTTPClient(&http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: loaders}, Timeout: 30 * time.Second}))
	require.NoError(t, err)

	type outcome struct {
		id             string
		sent, answered time.Time
		status         int
		runID          string
		retryAfter     string
		body           []byte
		err            error
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		wg       sync.WaitGroup
	)
	began := time.Now()
	for g := range loaders {
		wg.Go(func() {
			for i := 0; time.Since(began) < 30*time.Second; i++ {
				o := outcome{id: fmt.Sprintf("%s-%d-%d", queue, g, i), sent: time.Now()}
				r, err := c.StartWorkflowWithResponse(context.Background(), nil, client.StartWorkflowRequest{
					WorkflowType: "Sleep", WorkflowId: &o.id, Input: rawJSON(`{"seconds":1}`), ExecutionTimeout: ptr("1m")})
				o.answered, o.err = time.Now(), err
				if err == nil {
					o.status, o.body, o.retryAfter = r.StatusCode(), r.Body, r.HTTPResponse.Header.Get("Retry-After")
					if r.JSON201 != nil {
						o.runID = r.JSON201.RunId
					}
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if err != nil {
					return // the gateway has stopped listening
				}
			}
		})
	}
	time.Sleep(time.Second)
	sigterm := time.Now()
	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGTERM))
	wg.Wait()
	select {
	case <-gw.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the gateway had not exited 20s after SIGTERM")
	}
	assert.Equal(t, 0, gw.cmd.ProcessState.ExitCode(), "a clean shutdown exits 0")
	exited := time.Since(sigterm)

	var accepted, acrossSIGTERM, unavailable, unanswered, unansweredStarted int
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			unanswered++
			if unanswered == 1 {
				t.Logf("an unanswered start: %v", o.err)
			}
			assert.True(t, o.answered.After(sigterm), "%s: no answer before SIGTERM: %v", o.id, o.err)
			// It may or may not have started: both are allowed, and the count is reported.
			if _, err := temporalC.DescribeWorkflowExecution(t.Context(), o.id, ""); err == nil {
				unansweredStarted++
			}
		case o.status == http.StatusCreated:
			accepted++
			if o.sent.Before(sigterm) && o.answered.After(sigterm) {
				acrossSIGTERM++
			}
			desc, err := temporalC.DescribeWorkflowExecution(t.Context(), o.id, o.runID)
			if assert.NoError(t, err, "%s was accepted (201) but Temporal does not hold it", o.id) {
				assert.Equal(t, queue, desc.GetExecutionConfig().GetTaskQueue().GetName())
			}
		case o.status == http.StatusServiceUnavailable:
			unavailable++
			assert.NotEmpty(t, o.retryAfter, "%s: 503 without Retry-After", o.id)
		default:
			t.Errorf("%s: status %d: %s", o.id, o.status, o.body)
		}
	}
	t.Logf("%d starts: %d accepted (%d of them sent before SIGTERM and answered after), %d answered 503, "+
		"%d unanswered (%d of which had started); exited %s after SIGTERM",
		len(outcomes), accepted, acrossSIGTERM, unavailable, unanswered, unansweredStarted, exited.Round(time.Millisecond))
	require.Positive(t, acrossSIGTERM, "SIGTERM fell while starts were being handled")
}

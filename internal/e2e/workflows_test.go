package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporalhttp/gateway/client"
)

func TestGreetingCompletesWithItsResult(t *testing.T) {
	id := uniqueID(t)
	r := start(t, "Greeting", id, `{"name":"Ada"}`)
	started := r.JSON201
	assert.Equal(t, id, started.WorkflowId)
	assert.Equal(t, "Greeting", started.WorkflowType)
	assert.Equal(t, taskQueue, started.TaskQueue)
	require.NotEmpty(t, started.RunId)
	location := "/workflows/" + id + "?runId=" + started.RunId
	assert.Equal(t, location, r.HTTPResponse.Header.Get("Location"))
	assert.Equal(t, location, r.Headers201.Location)

	done := waitClosed(t, r.Headers201.Location)
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)
	assert.Equal(t, started.RunId, done.RunId)
	assert.NotNil(t, done.CloseTime)
	assert.Nil(t, done.Failure)
	require.NotNil(t, done.Result)
	var result struct {
		Greeting string `json:"greeting"`
	}
	require.NoError(t, json.Unmarshal(*done.Result, &result))
	assert.Equal(t, "Hello, Ada!", result.Greeting)
	assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*done.Result))

	// The same execution, seen by Temporal's own CLI against the same dev server.
	out, err := exec.Command(cliPath, "workflow", "describe", "--address", temporalAddr, "--workflow-id", id, "--output", "json").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), started.RunId)
	assert.Contains(t, string(out), "WORKFLOW_EXECUTION_STATUS_COMPLETED")
}

func TestReadRightAfterStartNeverAnswers404(t *testing.T) {
	c := api(t)
	for i := range 10 {
		id := fmt.Sprintf("%s-%d", uniqueID(t), i)
		start(t, "Sleep", id, `{"seconds":1}`)
		got, err := c.GetWorkflowWithResponse(t.Context(), id, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, got.StatusCode(), "body: %s", got.Body)
	}
}

// A start that prefers return=minimal gets a 201 without a body through the generated client,
// and its Location finds the run at once: the start is read-your-writes without the Describe.
func TestStartPreferringMinimalThenFollowLocation(t *testing.T) {
	c := api(t)
	for i := range 10 {
		id := fmt.Sprintf("%s-%d", uniqueID(t), i)
		r, err := c.StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Prefer: ptr("return=minimal")},
			client.StartWorkflowRequest{WorkflowType: "Greeting", WorkflowId: &id, Input: rawJSON(`{"name":"Ada"}`)})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		assert.Empty(t, r.Body)
		assert.Nil(t, r.JSON201)
		assert.Equal(t, "return=minimal", r.HTTPResponse.Header.Get("Preference-Applied"))
		location := r.HTTPResponse.Header.Get("Location")
		gotID, params := locate(t, location)
		assert.Equal(t, id, gotID)
		require.NotNil(t, params.RunId, location)
		e := get(t, gotID, params).JSON200
		assert.Equal(t, *params.RunId, e.RunId)
		assert.Equal(t, "Greeting", e.WorkflowType)
	}
}

func TestMoneyTransfer(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		wantStatus  client.ExecutionStatus
		wantType    string
		wantMessage string
	}{
		{"completes", `{"fromAccount":"alice","toAccount":"bob","amount":250,"referenceId":"ref-ok"}`, client.ExecutionStatusCOMPLETED, "", ""},
		{"overdraft fails", `{"fromAccount":"charlie","toAccount":"bob","amount":1000000000000,"referenceId":"ref-overdraft"}`, client.ExecutionStatusFAILED, "InsufficientFundsError", "withdrawal failed"},
		{"failed deposit is refunded", `{"fromAccount":"alice","toAccount":"nobody","amount":100,"referenceId":"ref-refund"}`, client.ExecutionStatusFAILED, "AccountNotFoundError", "refunded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, "MoneyTransfer", uniqueID(t), tt.input)
			done := waitClosed(t, r.Headers201.Location)
			require.Equal(t, tt.wantStatus, done.Status)
			if tt.wantStatus == client.ExecutionStatusCOMPLETED {
				require.NotNil(t, done.Result)
				assert.Contains(t, string(*done.Result), `"referenceId":"ref-ok"`)
				assert.Contains(t, string(*done.Result), `"withdrawalId":"tx-`)
				assert.Contains(t, string(*done.Result), `"depositId":"tx-`)
				return
			}
			require.NotNil(t, done.Failure)
			require.NotNil(t, done.Failure.Type)
			assert.Equal(t, tt.wantType, *done.Failure.Type)
			assert.Contains(t, done.Failure.Message, tt.wantMessage)
			assert.Nil(t, done.Result)
		})
	}
}

func TestDuplicateWorkflowID(t *testing.T) {
	id := uniqueID(t)
	runID := start(t, "Sleep", id, `{"seconds":60}`).JSON201.RunId
	t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.Background(), id, "", "test over") })
	again := func(t *testing.T, policy *client.IdConflictPolicy) *client.StartWorkflowResponse {
		t.Helper()
		r, err := api(t).StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
			WorkflowType:     "Sleep",
			WorkflowId:       &id,
			Input:            rawJSON(`{"seconds":60}`),
			IdConflictPolicy: policy,
		})
		require.NoError(t, err)
		return r
	}

	t.Run("409 names the running execution", func(t *testing.T) {
		r := again(t, nil)
		p := apiProblem(t, r, r.ApplicationproblemJSON409, http.StatusConflict, "urn:temporal-http:problem:workflow-already-started")
		assert.Nil(t, r.JSON201)
		require.NotNil(t, p.WorkflowId)
		require.NotNil(t, p.RunId)
		assert.Equal(t, id, *p.WorkflowId)
		assert.Equal(t, runID, *p.RunId)
	})
	t.Run("USE_EXISTING answers 200 with the running execution", func(t *testing.T) {
		r := again(t, ptr(client.IdConflictPolicyUSEEXISTING))
		require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON200, "body: %s", r.Body)
		assert.Equal(t, runID, r.JSON200.RunId)
	})
	t.Run("TERMINATE_EXISTING starts a new run", func(t *testing.T) {
		r := again(t, ptr(client.IdConflictPolicyTERMINATEEXISTING))
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON201, "body: %s", r.Body)
		assert.NotEqual(t, runID, r.JSON201.RunId)
		old := get(t, id, &client.GetWorkflowParams{RunId: &runID})
		assert.Equal(t, client.ExecutionStatusTERMINATED, old.JSON200.Status)
	})
}

func TestRejectedRequests(t *testing.T) {
	c := api(t)
	t.Run("unknown id is 404", func(t *testing.T) {
		id := "no-such-" + uniqueID(t)
		r, err := c.GetWorkflowWithResponse(t.Context(), id, nil)
		require.NoError(t, err)
		p := apiProblem(t, r, r.ApplicationproblemJSON404, http.StatusNotFound, "urn:temporal-http:problem:workflow-not-found")
		assert.Nil(t, r.JSON200)
		require.NotNil(t, p.WorkflowId)
		assert.Equal(t, id, *p.WorkflowId)
	})
	t.Run("bad JSON is 400", func(t *testing.T) {
		// The typed body cannot be malformed: the client's untyped-body variant sends the broken text.
		r, err := c.StartWorkflowWithBodyWithResponse(t.Context(), nil, "application/json", strings.NewReader(`{"workflowType":`))
		require.NoError(t, err)
		apiProblem(t, r, r.ApplicationproblemJSON400, http.StatusBadRequest, "urn:temporal-http:problem:malformed-json")
	})
	t.Run("invalid fields are 400 with each field named", func(t *testing.T) {
		r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
			WorkflowType:  "Greeting",
			RunTimeout:    ptr("soon"),
			IdReusePolicy: ptr(client.IdReusePolicy("SOMETIMES")),
		})
		require.NoError(t, err)
		p := apiProblem(t, r, r.ApplicationproblemJSON400, http.StatusBadRequest, "urn:temporal-http:problem:validation")
		require.NotNil(t, p.Errors)
		var fields []string
		for _, e := range *p.Errors {
			fields = append(fields, e.Field)
		}
		assert.ElementsMatch(t, []string{"runTimeout", "idReusePolicy"}, fields)
	})
	t.Run("unknown type is 422", func(t *testing.T) {
		r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{WorkflowType: "NoSuchWorkflow"})
		require.NoError(t, err)
		apiProblem(t, r, r.ApplicationproblemJSON422, http.StatusUnprocessableEntity, "urn:temporal-http:problem:unknown-workflow-type")
	})
}

func TestEchoKeepsLargeIntegersExactly(t *testing.T) {
	input := `{"big":123456789012345678901234567890,"beyond2to53":9007199254740993,"negative":-18446744073709551617,"decimal":1.50,"nested":[{"id":12345678901234567890}]}`
	r := start(t, "Echo", uniqueID(t), input)
	done := waitClosed(t, r.Headers201.Location)
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.Status)
	require.NotNil(t, done.Result)
	assert.Equal(t, input, string(*done.Result))
}

func TestCronCounterCountsItsRuns(t *testing.T) {
	id := uniqueID(t)
	r, err := api(t).StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
		WorkflowType: "CronCounter",
		WorkflowId:   &id,
		CronSchedule: ptr("@every 2s"),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON201, "body: %s", r.Body)
	t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.Background(), id, "", "test over") })

	runID := r.JSON201.RunId
	for want := 1; want <= 2; want++ {
		run := waitClosed(t, "/workflows/"+id+"?runId="+runID)
		require.Equal(t, client.ExecutionStatusCOMPLETED, run.Status)
		require.NotNil(t, run.Result)
		assert.JSONEq(t, fmt.Sprintf(`{"count":%d}`, want), string(*run.Result))
		require.NotNil(t, run.NextRunId, "a cron run names the next run")
		runID = *run.NextRunId
	}
}

// A cron run closes as completed, naming the next run (a server hands older clients a stand-in
// continue-as-new event instead): a start that waits for it and a read of the next run that waits
// both answer COMPLETED with the result, and the run that follows.
func TestWaitsOnCronRunsAnswerTheirResults(t *testing.T) {
	id := uniqueID(t)
	r, err := api(t).StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("20s")}, client.StartWorkflowRequest{
		WorkflowType: "CronCounter",
		WorkflowId:   &id,
		CronSchedule: ptr("@every 2s"),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.Background(), id, "", "test over") })
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	first := r.JSON201
	require.NotNil(t, first, "body: %s", r.Body)
	require.Equal(t, client.ExecutionStatusCOMPLETED, first.Status, "body: %s", r.Body)
	require.NotNil(t, first.Result)
	assert.JSONEq(t, `{"count":1}`, string(*first.Result))
	require.NotNil(t, first.NextRunId, "a cron run names the next run")

	next := get(t, id, &client.GetWorkflowParams{RunId: first.NextRunId, Wait: ptr("20s")}).JSON200
	require.Equal(t, client.ExecutionStatusCOMPLETED, next.Status)
	require.NotNil(t, next.Result)
	assert.JSONEq(t, `{"count":2}`, string(*next.Result))
	assert.NotNil(t, next.StartTime, "a read tells the run as Describe does")
	require.NotNil(t, next.NextRunId)
}

// A workflow that continues as new closes its run with CONTINUED_AS_NEW, whichever way the close
// is learnt: a start that waits for it, a read that waits, an event stream. Another team's worker
// on a queue of its own hosts it, since this deployment's workflows never continue as new.
func TestWaitsOnAContinueAsNewAnswerIt(t *testing.T) {
	queue := uniqueID(t)
	w := worker.New(temporalC, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, n int) (string, error) {
		if n > 0 {
			return "", workflow.NewContinueAsNewError(ctx, "Countdown", n-1)
		}
		return "liftoff", nil
	}, workflow.RegisterOptions{Name: "Countdown"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	id := uniqueID(t)
	r, err := api(t).StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("20s")},
		client.StartWorkflowRequest{WorkflowType: "Countdown", WorkflowId: &id, TaskQueue: &queue, Input: rawJSON(`1`)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	first := r.JSON201
	require.Equal(t, client.ExecutionStatusCONTINUEDASNEW, first.Status, "body: %s", r.Body)
	assert.Nil(t, first.Result, "a run that continued as new has no result")
	require.NotNil(t, first.NextRunId)

	read := get(t, id, &client.GetWorkflowParams{RunId: &first.RunId}).JSON200
	assert.Equal(t, client.ExecutionStatusCONTINUEDASNEW, read.Status, "a read agrees")
	last := get(t, id, &client.GetWorkflowParams{RunId: first.NextRunId, Wait: ptr("20s")}).JSON200
	require.Equal(t, client.ExecutionStatusCOMPLETED, last.Status)
	require.NotNil(t, last.Result)
	assert.JSONEq(t, `"liftoff"`, string(*last.Result))
}

func TestGatewayAnswers503WhileTemporalIsUnreachable(t *testing.T) {
	// A second gateway pointed at a port where nothing listens: it must start, and answer 503.
	p, url, err := startGateway([]string{"TEMPORAL_ADDRESS=127.0.0.1:1", "GATEWAY_HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=error", "GATEWAY_TEMPORAL_TIMEOUT=3s"})
	require.NoError(t, err)
	t.Cleanup(p.stop)
	c := apiAt(t, url)

	const unavailable = "urn:temporal-http:problem:temporal-unavailable"
	t.Run("readyz", func(t *testing.T) {
		began := time.Now()
		r, err := c.GetReadinessWithResponse(t.Context())
		require.NoError(t, err)
		assert.Less(t, time.Since(began), 5*time.Second)
		apiProblem(t, r, r.ApplicationproblemJSON503, http.StatusServiceUnavailable, unavailable)
		require.NotNil(t, r.Headers503)
		assert.Positive(t, r.Headers503.RetryAfter)
	})
	t.Run("get workflow", func(t *testing.T) {
		began := time.Now()
		r, err := c.GetWorkflowWithResponse(t.Context(), "anything", nil)
		require.NoError(t, err)
		assert.Less(t, time.Since(began), 5*time.Second)
		apiProblem(t, r, r.ApplicationproblemJSON503, http.StatusServiceUnavailable, unavailable)
		require.NotNil(t, r.Headers503)
		assert.Positive(t, r.Headers503.RetryAfter)
	})
	t.Run("healthz", func(t *testing.T) {
		r, err := c.GetHealthWithResponse(t.Context())
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		assert.NotNil(t, r.JSON200, "body: %s", r.Body)
	})
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
)

func TestGreetingCompletesWithItsResult(t *testing.T) {
	id := uniqueID(t)
	r := start(t, `{"workflowType":"Greeting","workflowId":"`+id+`","input":{"name":"Ada"}}`)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	started := execution(t, r)
	assert.Equal(t, id, started.WorkflowId)
	assert.Equal(t, "Greeting", started.WorkflowType)
	assert.Equal(t, taskQueue, started.TaskQueue)
	location := r.header.Get("Location")
	assert.Equal(t, "/workflows/"+id+"?runId="+started.RunId, location)

	done := waitClosed(t, location)
	assert.Equal(t, gen.ExecutionStatusCOMPLETED, done.Status)
	require.NotNil(t, done.Result)
	assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*done.Result))
	assert.NotNil(t, done.CloseTime)
	assert.Nil(t, done.Failure)

	// The same execution, seen by Temporal's own CLI against the same dev server.
	out, err := exec.Command(cliPath, "workflow", "describe", "--address", temporalAddr, "--workflow-id", id, "--output", "json").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), started.RunId)
	assert.Contains(t, string(out), "WORKFLOW_EXECUTION_STATUS_COMPLETED")
}

func TestReadRightAfterStartNeverAnswers404(t *testing.T) {
	for i := range 10 {
		id := fmt.Sprintf("%s-%d", uniqueID(t), i)
		r := start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":1}}`)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		got := do(t, http.MethodGet, "/workflows/"+id, "", "")
		assert.Equal(t, http.StatusOK, got.status, "body: %s", got.body)
	}
}

func TestMoneyTransfer(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		wantStatus  gen.ExecutionStatus
		wantType    string
		wantMessage string
	}{
		{"completes", `{"fromAccount":"alice","toAccount":"bob","amount":250,"referenceId":"ref-ok"}`, gen.ExecutionStatusCOMPLETED, "", ""},
		{"overdraft fails", `{"fromAccount":"charlie","toAccount":"bob","amount":1000000000000,"referenceId":"ref-overdraft"}`, gen.ExecutionStatusFAILED, "InsufficientFundsError", "withdrawal failed"},
		{"failed deposit is refunded", `{"fromAccount":"alice","toAccount":"nobody","amount":100,"referenceId":"ref-refund"}`, gen.ExecutionStatusFAILED, "AccountNotFoundError", "refunded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, `{"workflowType":"MoneyTransfer","workflowId":"`+uniqueID(t)+`","input":`+tt.input+`}`)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			done := waitClosed(t, r.header.Get("Location"))
			require.Equal(t, tt.wantStatus, done.Status)
			if tt.wantStatus == gen.ExecutionStatusCOMPLETED {
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
	body := `{"workflowType":"Sleep","workflowId":"` + id + `","input":{"seconds":60}}`
	first := start(t, body)
	require.Equal(t, http.StatusCreated, first.status, "body: %s", first.body)
	runID := execution(t, first).RunId
	t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.Background(), id, "", "test over") })

	t.Run("409 names the running execution", func(t *testing.T) {
		p := problem(t, start(t, body), http.StatusConflict, "urn:temporal-http:problem:workflow-already-started")
		require.NotNil(t, p.WorkflowId)
		require.NotNil(t, p.RunId)
		assert.Equal(t, id, *p.WorkflowId)
		assert.Equal(t, runID, *p.RunId)
	})
	t.Run("USE_EXISTING answers 200 with the running execution", func(t *testing.T) {
		r := start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":60},"idConflictPolicy":"USE_EXISTING"}`)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		assert.Equal(t, runID, execution(t, r).RunId)
	})
	t.Run("TERMINATE_EXISTING starts a new run", func(t *testing.T) {
		r := start(t, `{"workflowType":"Sleep","workflowId":"`+id+`","input":{"seconds":60},"idConflictPolicy":"TERMINATE_EXISTING"}`)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		assert.NotEqual(t, runID, execution(t, r).RunId)
		old := do(t, http.MethodGet, "/workflows/"+id+"?runId="+runID, "", "")
		assert.Equal(t, gen.ExecutionStatusTERMINATED, execution(t, old).Status)
	})
}

func TestRejectedRequests(t *testing.T) {
	t.Run("unknown id is 404", func(t *testing.T) {
		p := problem(t, do(t, http.MethodGet, "/workflows/no-such-"+uniqueID(t), "", ""), http.StatusNotFound, "urn:temporal-http:problem:workflow-not-found")
		require.NotNil(t, p.WorkflowId)
	})
	t.Run("bad JSON is 400", func(t *testing.T) {
		problem(t, start(t, `{"workflowType":`), http.StatusBadRequest, "urn:temporal-http:problem:malformed-json")
	})
	t.Run("invalid fields are 400 with each field named", func(t *testing.T) {
		p := problem(t, start(t, `{"workflowType":"Greeting","runTimeout":"soon","idReusePolicy":"SOMETIMES"}`), http.StatusBadRequest, "urn:temporal-http:problem:validation")
		require.NotNil(t, p.Errors)
		var fields []string
		for _, e := range *p.Errors {
			fields = append(fields, e.Field)
		}
		assert.ElementsMatch(t, []string{"runTimeout", "idReusePolicy"}, fields)
	})
	t.Run("unknown type is 422", func(t *testing.T) {
		problem(t, start(t, `{"workflowType":"NoSuchWorkflow"}`), http.StatusUnprocessableEntity, "urn:temporal-http:problem:unknown-workflow-type")
	})
}

func TestEchoKeepsLargeIntegersExactly(t *testing.T) {
	input := `{"big":123456789012345678901234567890,"beyond2to53":9007199254740993,"negative":-18446744073709551617,"decimal":1.50,"nested":[{"id":12345678901234567890}]}`
	r := start(t, `{"workflowType":"Echo","workflowId":"`+uniqueID(t)+`","input":`+input+`}`)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	done := waitClosed(t, r.header.Get("Location"))
	require.Equal(t, gen.ExecutionStatusCOMPLETED, done.Status)
	require.NotNil(t, done.Result)
	assert.Equal(t, input, string(*done.Result))
}

func TestCronCounterCountsItsRuns(t *testing.T) {
	id := uniqueID(t)
	r := start(t, `{"workflowType":"CronCounter","workflowId":"`+id+`","cronSchedule":"@every 2s"}`)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.Background(), id, "", "test over") })

	runID := execution(t, r).RunId
	for want := 1; want <= 2; want++ {
		run := waitClosed(t, "/workflows/"+id+"?runId="+runID)
		require.Equal(t, gen.ExecutionStatusCOMPLETED, run.Status)
		require.NotNil(t, run.Result)
		assert.JSONEq(t, fmt.Sprintf(`{"count":%d}`, want), string(*run.Result))
		require.NotNil(t, run.NextRunId, "a cron run names the next run")
		runID = *run.NextRunId
	}
}

func TestGatewayAnswers503WhileTemporalIsUnreachable(t *testing.T) {
	// A second gateway pointed at a port where nothing listens: it must start, and answer 503.
	p, url, err := startGateway([]string{"TEMPORAL_ADDRESS=127.0.0.1:1", "GATEWAY_HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=error", "GATEWAY_TEMPORAL_TIMEOUT=3s"})
	require.NoError(t, err)
	t.Cleanup(p.stop)

	for _, path := range []string{"/readyz", "/workflows/anything"} {
		started := time.Now()
		resp, err := http.Get(url + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, path)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"), path)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), path)
		assert.Less(t, time.Since(started), 5*time.Second, path)
	}
	health, err := http.Get(url + "/healthz")
	require.NoError(t, err)
	health.Body.Close()
	assert.Equal(t, http.StatusOK, health.StatusCode)
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporalhttp/gateway/client"
)

// TestInputThatDoesNotFitItsTypeIs422 starts hosted types with inputs that do not fit their input
// schema, through the gateway, against the real dev server: each answers 422 invalid-input naming
// the field by its JSON pointer, and no execution exists afterwards, so neither a start nor a
// signal reached Temporal.
func TestInputThatDoesNotFitItsTypeIs422(t *testing.T) {
	c := api(t)
	tests := []struct {
		name, workflowType, input string
		signal                    *client.StartSignal
		wantField                 string
	}{
		{"Sleep whose seconds overflow a duration", "Sleep", `{"seconds":9223372037}`, nil, "/input/seconds"},
		{"Sleep of the largest int64 seconds", "Sleep", `{"seconds":9223372036854775807}`, nil, "/input/seconds"},
		{"Sleep of negative seconds", "Sleep", `{"seconds":-1}`, nil, "/input/seconds"},
		{"Sleep with a misspelt field", "Sleep", `{"second":600}`, nil, "/input/second"},
		{"Greeting without a name", "Greeting", `{}`, nil, "/input/name"},
		{"MoneyTransfer of nothing", "MoneyTransfer", `{"fromAccount":"alice","toAccount":"bob","amount":0,"referenceId":"inv-0"}`, nil, "/input/amount"},
		// Whole numbers that the schema's validator takes for integers, and the worker's
		// encoding/json does not: the run would fail at once.
		{"MoneyTransfer of 250.0 cents", "MoneyTransfer", `{"fromAccount":"alice","toAccount":"bob","amount":250.0,"referenceId":"inv-250"}`, nil, "/input/amount"},
		{"Sleep of 1e3 seconds", "Sleep", `{"seconds":1e3}`, nil, "/input/seconds"},
		{"Sleep of 30.0 seconds", "Sleep", `{"seconds":30.0}`, nil, "/input/seconds"},
		{"Approval of an amount just beyond int64", "Approval", `{"amount":9223372036854775808}`, nil, "/input/amount"},
		{"signal-with-start of an Approval whose timeout overflows", "Approval", `{"timeoutSeconds":9223372037}`,
			&client.StartSignal{Name: "decision", Input: rawJSON(`{"approved":true}`)}, "/input/timeoutSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uniqueID(t)
			r, err := c.StartWorkflowWithResponse(t.Context(), nil, client.StartWorkflowRequest{
				WorkflowType: tt.workflowType, WorkflowId: &id, Input: rawJSON(tt.input), Signal: tt.signal})
			require.NoError(t, err)
			p := apiProblem(t, r, r.ApplicationproblemJSON422, http.StatusUnprocessableEntity, "urn:temporal-http:problem:invalid-input")
			require.NotNil(t, p.Errors, "body: %s", r.Body)
			require.Len(t, *p.Errors, 1, "body: %s", r.Body)
			assert.Equal(t, tt.wantField, (*p.Errors)[0].Field)
			assert.Equal(t, client.FieldErrorInBody, (*p.Errors)[0].In)

			_, err = temporalC.DescribeWorkflowExecution(context.Background(), id, "")
			var notFound *serviceerror.NotFound
			assert.ErrorAs(t, err, &notFound, "a start with an invalid input reached Temporal")
		})
	}

	t.Run("the longest sleep a duration holds is started", func(t *testing.T) {
		id := uniqueID(t)
		start(t, "Sleep", id, `{"seconds":9223372036}`)
		t.Cleanup(func() { _ = temporalC.TerminateWorkflow(context.Background(), id, "", "test over") })
		// The worker starts its timer: the run is still RUNNING once its first workflow task is done.
		require.Eventually(t, func() bool {
			e := get(t, id, nil).JSON200
			return e.Status == client.ExecutionStatusRUNNING && e.HistoryLength != nil && *e.HistoryLength >= 5
		}, 10*time.Second, 100*time.Millisecond)
	})
}

// TestSleepRefusesAnOverflowingInputItself starts Sleep with seconds that overflow a duration
// through Temporal's own client, past the gateway's check: the worker fails the run with
// InvalidInputError, which the gateway reads back.
func TestSleepRefusesAnOverflowingInputItself(t *testing.T) {
	id := uniqueID(t)
	_, err := temporalC.ExecuteWorkflow(t.Context(), sdkclient.StartWorkflowOptions{ID: id, TaskQueue: taskQueue},
		"Sleep", json.RawMessage(`{"seconds":9223372037}`))
	require.NoError(t, err)
	r, err := api(t).GetWorkflowWithResponse(t.Context(), id, &client.GetWorkflowParams{Wait: ptr("20s")})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.Equal(t, client.ExecutionStatusFAILED, r.JSON200.Status, "body: %s", r.Body)
	require.NotNil(t, r.JSON200.Failure)
	require.NotNil(t, r.JSON200.Failure.Type)
	assert.Equal(t, "InvalidInputError", *r.JSON200.Failure.Type)
	assert.Contains(t, r.JSON200.Failure.Message, "seconds must not exceed 9223372036")
}

// TestOtherTaskQueuesAreNotHeldToTheContract runs another team's worker on a task queue of its
// own, hosting a "Sleep" that takes minutes as a fraction and a "Shipping" that the contract does
// not know. Through the suite's gateway, which may start on any queue, starts there are passed as
// they came and that worker runs them; the same starts on the deployment's own queue are 422 and
// start nothing.
func TestOtherTaskQueuesAreNotHeldToTheContract(t *testing.T) {
	queue := uniqueID(t)
	w := worker.New(temporalC, queue, worker.Options{})
	type sleepInput struct {
		Minutes float64 `json:"minutes"`
	}
	w.RegisterWorkflowWithOptions(func(_ workflow.Context, in sleepInput) (string, error) {
		return fmt.Sprintf("slept %v minutes", in.Minutes), nil
	}, workflow.RegisterOptions{Name: "Sleep"})
	w.RegisterWorkflowWithOptions(func(_ workflow.Context, in json.RawMessage) (json.RawMessage, error) {
		return in, nil
	}, workflow.RegisterOptions{Name: "Shipping"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	c := api(t)
	for _, tt := range []struct{ workflowType, input, result, refusal string }{
		{"Sleep", `{"minutes":1.5}`, `"slept 1.5 minutes"`, "urn:temporal-http:problem:invalid-input"},
		{"Shipping", `{"parcel":"p-1"}`, `{"parcel":"p-1"}`, "urn:temporal-http:problem:unknown-workflow-type"},
	} {
		t.Run(tt.workflowType, func(t *testing.T) {
			id := uniqueID(t)
			r, err := c.StartWorkflowWithResponse(t.Context(), &client.StartWorkflowParams{Wait: ptr("20s")},
				client.StartWorkflowRequest{WorkflowType: tt.workflowType, WorkflowId: &id, TaskQueue: &queue, Input: rawJSON(tt.input)})
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
			assert.Equal(t, queue, r.JSON201.TaskQueue)
			require.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON201.Status, "body: %s", r.Body)
			require.NotNil(t, r.JSON201.Result)
			assert.JSONEq(t, tt.result, string(*r.JSON201.Result), "the other queue's worker ran it")

			own := uniqueID(t) + "-own-queue"
			r, err = c.StartWorkflowWithResponse(t.Context(), nil,
				client.StartWorkflowRequest{WorkflowType: tt.workflowType, WorkflowId: &own, Input: rawJSON(tt.input)})
			require.NoError(t, err)
			apiProblem(t, r, r.ApplicationproblemJSON422, http.StatusUnprocessableEntity, tt.refusal)
			_, err = temporalC.DescribeWorkflowExecution(context.Background(), own, "")
			var notFound *serviceerror.NotFound
			assert.ErrorAs(t, err, &notFound, "a start refused on the deployment's own queue reached Temporal")
		})
	}
}

package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
)

func jsonPayload(data string) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(data)}
}

func runningRun() *fakeExecution {
	return &fakeExecution{workflowID: "approval-1", runID: "01a2110d-1b69-77ad-9897-000000000001", workflowType: "Approval", taskQueue: defaultTaskQueue,
		status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, historyLength: 5}
}

// running is a RUNNING run of greeting-ada, the execution TestLifecycleErrors addresses.
func running() []*fakeExecution {
	return []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil)}
}

func TestLifecycleCallsReachTemporal(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		body       string
		wantStatus int
		wantBody   string
		want       lifecycleCall
	}{
		{"signal with input", "/workflows/approval-1/signals/decision", `{"input":{"approved":true,"big":123456789012345678901234567890}}`,
			http.StatusAccepted, "", lifecycleCall{op: "signal", workflowID: "approval-1", name: "decision",
				args: []any{json.RawMessage(`{"approved":true,"big":123456789012345678901234567890}`)}}},
		{"signal with nothing to say", "/workflows/approval-1/signals/poke", "{}", http.StatusAccepted, "",
			lifecycleCall{op: "signal", workflowID: "approval-1", name: "poke", args: []any{nil}}},
		{"signal to a run", "/workflows/approval-1/signals/poke", `{"runId":"01a2110d-1b69-77ad-9897-000000000001"}`, http.StatusAccepted, "",
			lifecycleCall{op: "signal", workflowID: "approval-1", runID: "01a2110d-1b69-77ad-9897-000000000001", name: "poke", args: []any{nil}}},
		{"query", "/workflows/approval-1/queries/status", `{"args":[1,"two"]}`, http.StatusOK, `{"result":{"state":"PENDING"}}`,
			lifecycleCall{op: "query", workflowID: "approval-1", name: "status", args: []any{json.RawMessage(`1`), json.RawMessage(`"two"`)}}},
		{"update with id", "/workflows/approval-1/updates/approve", `{"input":{"comment":"ok"},"updateId":"u-1"}`, http.StatusOK,
			`{"updateId":"u-1","result":{"state":"APPROVED"}}`,
			lifecycleCall{op: "update", workflowID: "approval-1", name: "approve", updateID: "u-1", args: []any{json.RawMessage(`{"comment":"ok"}`)}}},
		{"cancel with reason", "/workflows/approval-1/cancel", `{"reason":"customer left"}`, http.StatusAccepted, "",
			lifecycleCall{op: "cancel", workflowID: "approval-1", reason: "customer left"}},
		{"terminate with reason", "/workflows/approval-1/terminate", `{"reason":"bad deploy","runId":"01a2110d-1b69-77ad-9897-000000000001"}`, http.StatusAccepted, "",
			lifecycleCall{op: "terminate", workflowID: "approval-1", runID: "01a2110d-1b69-77ad-9897-000000000001", reason: "bad deploy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{executions: []*fakeExecution{runningRun()},
				queryResult: jsonPayload(`{"state":"PENDING"}`), updateResult: jsonPayload(`{"state":"APPROVED"}`)}
			rec := serve(newRouter(t, fake), newRequest(http.MethodPost, tt.target, tt.body))
			require.Equal(t, tt.wantStatus, rec.Code, "body: %s", rec.Body)
			if tt.wantBody != "" {
				assert.JSONEq(t, tt.wantBody, rec.Body.String())
			}
			require.Len(t, fake.lifecycle, 1)
			assert.Equal(t, tt.want, fake.lifecycle[0])
		})
	}
}

func TestUpdateGeneratesAnIDWhenNoneIsGiven(t *testing.T) {
	fake := &fakeTemporal{executions: []*fakeExecution{runningRun()}, updateResult: jsonPayload(`1`)}
	rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows/approval-1/updates/approve", "{}"))
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	var resp gen.UpdateResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	assert.NotEmpty(t, resp.UpdateId)
	assert.Equal(t, resp.UpdateId, fake.lifecycle[0].updateID)
}

func TestListWorkflowTypes(t *testing.T) {
	rec := serve(newRouter(t, &fakeTemporal{}), newRequest(http.MethodGet, "/workflow-types", ""))
	require.Equal(t, http.StatusOK, rec.Code)
	var list gen.WorkflowTypeList
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	require.Len(t, list.WorkflowTypes, len(workflowTypes))
	for i, wt := range workflowTypes {
		assert.Equal(t, wt.Name, list.WorkflowTypes[i].Name)
		assert.Equal(t, wt.Description, list.WorkflowTypes[i].Description)
	}
}

func TestLifecycleErrors(t *testing.T) {
	closed := closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, completedEvent(jsonPayloads(`1`)))
	completedNotFound := serviceerror.NewNotFound(secret + ": workflow execution already completed")
	targets := map[string]string{
		"signal":    "/workflows/greeting-ada/signals/decision",
		"query":     "/workflows/greeting-ada/queries/status",
		"update":    "/workflows/greeting-ada/updates/approve",
		"cancel":    "/workflows/greeting-ada/cancel",
		"terminate": "/workflows/greeting-ada/terminate",
	}
	tests := []struct {
		name      string
		ops       []string
		fake      func() *fakeTemporal
		body      string
		wantType  string
		wantRunID string
	}{
		{"closed execution is 409", []string{"signal", "update", "cancel", "terminate"},
			func() *fakeTemporal {
				return &fakeTemporal{executions: []*fakeExecution{closed}, lifecycleErr: completedNotFound}
			},
			"{}", "urn:temporal-http:problem:workflow-closed", "01a2110d-1b69-77ad-9897-000000000001"},
		{"unknown execution is 404", []string{"signal", "query", "update", "cancel", "terminate"},
			func() *fakeTemporal { return &fakeTemporal{lifecycleErr: serviceerror.NewNotFound(secret)} },
			"{}", "urn:temporal-http:problem:workflow-not-found", ""},
		{"Temporal down is 503", []string{"signal", "query", "update", "cancel", "terminate"},
			func() *fakeTemporal {
				return &fakeTemporal{executions: running(), lifecycleErr: serviceerror.NewUnavailable(secret)}
			},
			"{}", "urn:temporal-http:problem:temporal-unavailable", ""},
		{"a run not ready for it is 503", []string{"query", "update"},
			func() *fakeTemporal {
				return &fakeTemporal{executions: running(), lifecycleErr: serviceerror.NewWorkflowNotReady(secret)}
			},
			"{}", "urn:temporal-http:problem:workflow-not-ready", ""},
		{"no worker in time is 504", []string{"query", "update"},
			func() *fakeTemporal { return &fakeTemporal{lifecycleErr: context.DeadlineExceeded} },
			"{}", "urn:temporal-http:problem:no-worker", ""},
		{"unknown field is 400", []string{"signal", "query", "update", "cancel", "terminate"},
			func() *fakeTemporal { return &fakeTemporal{} },
			`{"nope":1}`, "urn:temporal-http:problem:validation", ""},
		{"malformed JSON is 400", []string{"signal", "query", "update", "cancel", "terminate"},
			func() *fakeTemporal { return &fakeTemporal{} },
			`{"input":`, "urn:temporal-http:problem:malformed-json", ""},
		{"arbitrary error is 500", []string{"signal", "query", "update", "cancel", "terminate"},
			func() *fakeTemporal { return &fakeTemporal{executions: running(), lifecycleErr: assert.AnError} },
			"{}", "urn:temporal-http:problem:internal", ""},
	}
	for _, tt := range tests {
		for _, op := range tt.ops {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				fake := tt.fake()
				rec := serve(newRouter(t, fake), newRequest(http.MethodPost, targets[op], tt.body))
				p := requireProblem(t, rec, tt.wantType)
				if tt.wantRunID != "" {
					require.NotNil(t, p.RunId)
					assert.Equal(t, tt.wantRunID, *p.RunId)
					require.NotNil(t, p.WorkflowId)
					assert.Equal(t, "greeting-ada", *p.WorkflowId)
				}
			})
		}
	}
}

func TestCancelRequestedTwice(t *testing.T) {
	t.Run("running is 202", func(t *testing.T) {
		fake := &fakeTemporal{executions: []*fakeExecution{runningRun()},
			lifecycleErr: serviceerror.NewCancellationAlreadyRequested(secret)}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows/approval-1/cancel", "{}"))
		assert.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	})
	t.Run("closed is 409", func(t *testing.T) {
		fake := &fakeTemporal{executions: []*fakeExecution{closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, &historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes{
				WorkflowExecutionCanceledEventAttributes: &historypb.WorkflowExecutionCanceledEventAttributes{},
			},
		})}, lifecycleErr: serviceerror.NewCancellationAlreadyRequested(secret)}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows/greeting-ada/cancel", "{}"))
		p := requireProblem(t, rec, "urn:temporal-http:problem:workflow-closed")
		require.NotNil(t, p.RunId)
		assert.Equal(t, "01a2110d-1b69-77ad-9897-000000000001", *p.RunId)
	})
}

func TestRejectedByTheWorkflowIs422(t *testing.T) {
	t.Run("query the workflow rejects", func(t *testing.T) {
		fake := &fakeTemporal{lifecycleErr: serviceerror.NewQueryFailed(secret + ": unknown queryType nope")}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows/approval-1/queries/nope", "{}"))
		requireProblem(t, rec, "urn:temporal-http:problem:rejected-by-workflow")
	})
	t.Run("update the validator rejects carries the workflow's failure", func(t *testing.T) {
		fake := &fakeTemporal{executions: []*fakeExecution{runningRun()},
			updateErr: temporal.NewApplicationError("request is no longer pending: APPROVED", "NotPending")}
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/workflows/approval-1/updates/approve", "{}"))
		p := requireProblem(t, rec, "urn:temporal-http:problem:rejected-by-workflow")
		require.NotNil(t, p.Failure)
		assert.Equal(t, "request is no longer pending: APPROVED", p.Failure.Message)
		require.NotNil(t, p.Failure.Type)
		assert.Equal(t, "NotPending", *p.Failure.Type)
	})
}

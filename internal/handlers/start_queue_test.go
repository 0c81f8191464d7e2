package handlers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/handlers"
)

func TestStartOnlyOnAllowedTaskQueues(t *testing.T) {
	startKey, startEntry, err := auth.NewAPIKey("starter", []auth.Scope{auth.ScopeStart})
	require.NoError(t, err)
	adminKey, adminEntry, err := auth.NewAPIKey("root", []auth.Scope{auth.ScopeAdmin})
	require.NoError(t, err)
	authn := auth.New([]auth.APIKey{startEntry, adminEntry}, nil)
	for _, tc := range []struct {
		name    string
		queue   string
		key     string
		options func(*handlers.Options)
		allowed bool
	}{
		{"the deployment's own queue", defaultTaskQueue, startKey, nil, true},
		{"another queue", "payments-internal", startKey, nil, false},
		{"another queue, allowed by the operator", "payments-internal", startKey,
			func(o *handlers.Options) { o.TaskQueues = []string{"payments-internal"} }, true},
		{"any queue, allowed by the operator", "elsewhere", startKey, func(o *handlers.Options) { o.AnyTaskQueue = true }, true},
		{"another queue, by an administrator", "payments-internal", adminKey, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			opts := []func(*handlers.Options){withAuth(authn)}
			if tc.options != nil {
				opts = append(opts, tc.options)
			}
			body := `{"workflowType":"Greeting","taskQueue":"` + tc.queue + `","signal":{"name":"decision"},"idConflictPolicy":"USE_EXISTING"}`
			if tc.key == startKey {
				body = `{"workflowType":"Greeting","taskQueue":"` + tc.queue + `"}`
			}
			rec := serve(newRouter(t, fake, opts...), withKey(newRequest(http.MethodPost, "/workflows", body), tc.key))
			if tc.allowed {
				require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
				assert.Equal(t, tc.queue, fake.starts[0].options.TaskQueue)
				return
			}
			p := requireProblem(t, rec, "urn:temporal-http:problem:task-queue-not-allowed")
			assert.Equal(t, http.StatusForbidden, p.Status)
			assert.Equal(t, []fieldRef{{"body", "taskQueue"}}, fieldRefs(t, p))
			assert.Empty(t, fake.starts, "nothing reached Temporal")
		})
	}
}

// TestTheContractHoldsOnTheDeploymentsOwnQueue: the contract describes the workers of this
// deployment, which poll its own task queue. A start there is held to the contract's types and
// their input schemas; a start on another queue the operator allows, or that an administrator
// names, goes to whatever worker polls that queue, which may host other types, or a type of the
// same name with another input, so the gateway passes it as it came.
func TestTheContractHoldsOnTheDeploymentsOwnQueue(t *testing.T) {
	startKey, startEntry, err := auth.NewAPIKey("starter", []auth.Scope{auth.ScopeStart})
	require.NoError(t, err)
	adminKey, adminEntry, err := auth.NewAPIKey("root", []auth.Scope{auth.ScopeAdmin})
	require.NoError(t, err)
	authn := auth.New([]auth.APIKey{startEntry, adminEntry}, nil)
	const (
		otherInput  = `{"minutes":1.5}` // not SleepInput, in any way
		unknownType = `"Shipping"`
	)
	for _, tc := range []struct {
		name     string
		queue    string // "" names none
		key      string
		contract bool // the start is held to the contract
	}{
		{"the deployment's own queue, by default", "", startKey, true},
		{"the deployment's own queue, named", defaultTaskQueue, startKey, true},
		{"the deployment's own queue, by an administrator", defaultTaskQueue, adminKey, true},
		{"another queue the operator allows", "reports", startKey, false},
		{"another queue, by an administrator", "payments-internal", adminKey, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			queue := ""
			if tc.queue != "" {
				queue = `,"taskQueue":"` + tc.queue + `"`
			}
			for _, start := range []struct{ body, refusal string }{
				{`{"workflowType":"Sleep","input":` + otherInput + queue + `}`, "urn:temporal-http:problem:invalid-input"},
				{`{"workflowType":` + unknownType + `,"input":` + otherInput + queue + `}`, "urn:temporal-http:problem:unknown-workflow-type"},
			} {
				fake := &fakeTemporal{}
				h := newRouter(t, fake, withContractTypes(t), withAuth(authn),
					func(o *handlers.Options) { o.TaskQueues = []string{"reports"} })
				body := start.body
				rec := serve(h, withKey(newRequest(http.MethodPost, "/workflows", body), tc.key))
				if tc.contract {
					requireProblem(t, rec, start.refusal)
					assert.Empty(t, fake.startCalls(), "nothing reached Temporal")
					continue
				}
				require.Equal(t, http.StatusCreated, rec.Code, "%s: %s", body, rec.Body)
				starts := fake.startCalls()
				require.Len(t, starts, 1)
				assert.Equal(t, tc.queue, starts[0].options.TaskQueue)
				require.Len(t, starts[0].args, 1)
				assert.JSONEq(t, otherInput, string(starts[0].args[0].(json.RawMessage)), "the input as it came")
			}
		})
	}

	t.Run("a queue the operator does not allow is 403 before anything else", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake, withContractTypes(t), withAuth(authn))
		body := `{"workflowType":` + unknownType + `,"input":` + otherInput + `,"taskQueue":"payments-internal"}`
		p := requireProblem(t, serve(h, withKey(newRequest(http.MethodPost, "/workflows", body), startKey)),
			"urn:temporal-http:problem:task-queue-not-allowed")
		assert.Equal(t, http.StatusForbidden, p.Status)
		assert.Empty(t, fake.startCalls())
	})
}

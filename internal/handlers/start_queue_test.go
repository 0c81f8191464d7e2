package handlers_test

import (
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

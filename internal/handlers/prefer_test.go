package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
)

// A start that prefers return=minimal answers 201 with Location alone, and spends no Describe on
// a body; any other preference, or a wait, leaves the full Execution.
func TestStartPreferReturnMinimal(t *testing.T) {
	const body = `{"workflowType":"Greeting","workflowId":"greeting-ada","input":{"name":"Ada"}}`
	const location = "/workflows/greeting-ada?runId=01a2110d-1b69-77ad-9897-000000000001"
	minimal := map[string][]string{
		"return=minimal":          {"return=minimal"},
		"case and spaces":         {"  RETURN = Minimal  "},
		"quoted":                  {`return="minimal"`},
		"among other preferences": {"respond-async, return=minimal; x=1, wait=10"},
		"on a second header line": {"handling=lenient", "return=minimal"},
		"the first return preference wins (minimal)": {"return=minimal, return=representation"},
	}
	for name, prefer := range minimal {
		t.Run(name, func(t *testing.T) {
			fake := &fakeTemporal{}
			req := newRequest(http.MethodPost, "/workflows", body)
			for _, p := range prefer {
				req.Header.Add("Prefer", p)
			}
			rec := serve(newRouter(t, fake), req)
			require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
			assert.Empty(t, rec.Body.String())
			assert.Empty(t, rec.Header().Get("Content-Type"))
			assert.Equal(t, location, rec.Header().Get("Location"))
			assert.Equal(t, "return=minimal", rec.Header().Get("Preference-Applied"))
			assert.Len(t, fake.startCalls(), 1)
			assert.Empty(t, fake.describeCalls(), "a minimal answer described the execution")
		})
	}

	full := map[string]struct {
		prefer, target string
	}{
		"no preference":         {"", "/workflows"},
		"return=representation": {"return=representation", "/workflows"},
		"first return preference wins (representation)": {"return=representation, return=minimal", "/workflows"},
		"another preference only":                       {"respond-async", "/workflows"},
		"a token that only starts like it":              {"return=minimalist", "/workflows"},
	}
	for name, tt := range full {
		t.Run(name, func(t *testing.T) {
			fake := &fakeTemporal{}
			req := newRequest(http.MethodPost, tt.target, body)
			if tt.prefer != "" {
				req.Header.Set("Prefer", tt.prefer)
			}
			rec := serve(newRouter(t, fake), req)
			require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
			assert.Empty(t, rec.Header().Get("Preference-Applied"))
			assert.Equal(t, location, rec.Header().Get("Location"))
			exec := decode(t, rec.Body.Bytes())
			assert.Equal(t, gen.ExecutionStatusRUNNING, exec.Status)
			assert.Len(t, fake.startCalls(), 1)
			assert.Empty(t, fake.describeCalls(), "the body is what the start knows: one Temporal call")
		})
	}

	t.Run("an existing execution (200) answers in full", func(t *testing.T) {
		fake := &fakeTemporal{
			executions: []*fakeExecution{{
				workflowID: "greeting-ada", runID: "run-existing", workflowType: "Greeting", taskQueue: defaultTaskQueue,
				status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, historyLength: 7,
			}},
		}
		req := newRequest(http.MethodPost, "/workflows",
			`{"workflowType":"Greeting","workflowId":"greeting-ada","idConflictPolicy":"USE_EXISTING"}`)
		req.Header.Set("Prefer", "return=minimal")
		rec := serve(newRouter(t, fake), req)
		require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
		assert.Empty(t, rec.Header().Get("Preference-Applied"))
		assert.Equal(t, ptr(int64(7)), decode(t, rec.Body.Bytes()).HistoryLength)
	})

	t.Run("signal-with-start: minimal when it started, full when it signalled", func(t *testing.T) {
		fake := &fakeTemporal{}
		h := newRouter(t, fake)
		const withSignal = `{"workflowType":"Greeting","workflowId":"approval-9","signal":{"name":"decision"}}`
		first := newRequest(http.MethodPost, "/workflows", withSignal)
		first.Header.Set("Prefer", "return=minimal")
		rec := serve(h, first)
		require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
		assert.Empty(t, rec.Body.String())
		assert.Equal(t, "return=minimal", rec.Header().Get("Preference-Applied"))
		assert.Equal(t, "/workflows/approval-9?runId="+fakeRunID(1), rec.Header().Get("Location"))
		assert.Empty(t, fake.describeCalls())

		again := newRequest(http.MethodPost, "/workflows", withSignal)
		again.Header.Set("Prefer", "return=minimal")
		rec = serve(h, again)
		require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
		assert.Empty(t, rec.Header().Get("Preference-Applied"))
		assert.Equal(t, fakeRunID(1), decode(t, rec.Body.Bytes()).RunId)
	})

	t.Run("an over-long Prefer is 400", func(t *testing.T) {
		req := newRequest(http.MethodPost, "/workflows", body)
		req.Header.Set("Prefer", "return=minimal, x="+strings.Repeat("a", 1025))
		rec := serve(newRouter(t, &fakeTemporal{}), req)
		p := requireProblem(t, rec, "urn:temporal-http:problem:validation")
		assert.Equal(t, []fieldRef{{"header", "Prefer"}}, fieldRefs(t, p))
	})
}

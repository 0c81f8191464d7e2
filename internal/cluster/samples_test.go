//go:build linux

package cluster

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterSamplesThroughEitherGateway runs every sample workflow to its end with each gateway
// starting it and the other one signalling, updating and reading it, waits included: nothing
// a gateway knows is its own, and a wait through one gateway sees what was done through the other.
func TestClusterSamplesThroughEitherGateway(t *testing.T) {
	c := shared(t)
	stamp := time.Now().UnixNano()
	for dir, pair := range [][2]string{{c.GatewayURLs[0], c.GatewayURLs[1]}, {c.GatewayURLs[1], c.GatewayURLs[0]}} {
		a, b := pair[0], pair[1]
		id := func(sample string) string { return fmt.Sprintf("cluster-%s-%d-%d", sample, dir, stamp) }
		t.Run(fmt.Sprintf("started through gateway %c", 'A'+dir), func(t *testing.T) {
			t.Run("Greeting", func(t *testing.T) {
				t.Parallel()
				w := id("greeting")
				s := must(t, http.MethodPost, a+"/workflows?wait=60s", fmt.Sprintf(`{"workflowType":"Greeting","workflowId":%q,"input":{"name":"Ada"}}`, w), http.StatusCreated)
				assert.Equal(t, "COMPLETED", str(s.body, "status"), "the start waited for the result: %s", s.raw)
				r := must(t, http.MethodGet, b+"/workflows/"+w, "", http.StatusOK)
				assert.Equal(t, map[string]any{"greeting": "Hello, Ada!"}, r.body["result"], "the other gateway reads the result")
			})
			t.Run("Echo", func(t *testing.T) {
				t.Parallel()
				w := id("echo")
				must(t, http.MethodPost, a+"/workflows", fmt.Sprintf(`{"workflowType":"Echo","workflowId":%q,"input":{"n":[1,2,3]}}`, w), http.StatusCreated)
				r := must(t, http.MethodGet, b+"/workflows/"+w+"?wait=60s", "", http.StatusOK)
				assert.Equal(t, "COMPLETED", str(r.body, "status"), r.raw)
				assert.Equal(t, map[string]any{"n": []any{1.0, 2.0, 3.0}}, r.body["result"])
			})
			t.Run("Sleep", func(t *testing.T) {
				t.Parallel()
				w := id("sleep")
				s := must(t, http.MethodPost, a+"/workflows", fmt.Sprintf(`{"workflowType":"Sleep","workflowId":%q,"input":{"seconds":2}}`, w), http.StatusCreated)
				runID := str(s.body, "runId")
				// The run's own wait on the other gateway, and the first gateway's, at once.
				results := make(chan answer, 2)
				for _, gw := range []string{a, b} {
					go func() {
						results <- must(t, http.MethodGet, gw+"/workflows/"+w+"?runId="+runID+"&wait=60s", "", http.StatusOK)
					}()
				}
				for range 2 {
					r := <-results
					assert.Equal(t, "COMPLETED", str(r.body, "status"), r.raw)
					assert.Equal(t, map[string]any{"sleptSeconds": 2.0}, r.body["result"])
				}
			})
			t.Run("MoneyTransfer", func(t *testing.T) {
				t.Parallel()
				w := id("transfer")
				must(t, http.MethodPost, a+"/workflows", fmt.Sprintf(
					`{"workflowType":"MoneyTransfer","workflowId":%q,"input":{"fromAccount":"alice","toAccount":"charlie","amount":7,"referenceId":%q}}`, w, w),
					http.StatusCreated)
				r := waitClosed(t, b, w)
				require.Equal(t, "COMPLETED", str(r.body, "status"), r.raw)
				result, _ := r.body["result"].(map[string]any)
				assert.Equal(t, w, str(result, "referenceId"))
				assert.NotEmpty(t, str(result, "depositId"))
			})
			t.Run("CronCounter", func(t *testing.T) {
				t.Parallel()
				w := id("cron")
				s := must(t, http.MethodPost, a+"/workflows?wait=60s", fmt.Sprintf(`{"workflowType":"CronCounter","workflowId":%q,"cronSchedule":"@every 2s"}`, w), http.StatusCreated)
				t.Cleanup(func() {
					must(t, http.MethodPost, b+"/workflows/"+w+"/terminate", `{"reason":"test over"}`, http.StatusOK, http.StatusAccepted, http.StatusNoContent)
				})
				require.Equal(t, "COMPLETED", str(s.body, "status"), s.raw)
				assert.Equal(t, map[string]any{"count": 1.0}, s.body["result"])
				next := str(s.body, "nextRunId")
				require.NotEmpty(t, next, s.raw)
				r := must(t, http.MethodGet, b+"/workflows/"+w+"?runId="+next+"&wait=60s", "", http.StatusOK)
				require.Equal(t, "COMPLETED", str(r.body, "status"), r.raw)
				assert.Equal(t, map[string]any{"count": 2.0}, r.body["result"], "the next run, read through the other gateway, counts on")
			})
			t.Run("Approval", func(t *testing.T) {
				t.Parallel()
				w := id("approval")
				must(t, http.MethodPost, a+"/workflows", fmt.Sprintf(`{"workflowType":"Approval","workflowId":%q,"input":{"requestId":"po-1","timeoutSeconds":600}}`, w), http.StatusCreated)
				must(t, http.MethodPost, b+"/workflows/"+w+"/signals/decision", `{"input":{"approved":true,"comment":"fine"}}`, http.StatusAccepted, http.StatusNoContent, http.StatusOK)
				r := must(t, http.MethodGet, a+"/workflows/"+w+"?wait=60s", "", http.StatusOK)
				require.Equal(t, "COMPLETED", str(r.body, "status"), r.raw)
				assert.Equal(t, map[string]any{"state": "APPROVED", "comment": "fine"}, r.body["result"])
			})
			t.Run("Cart", func(t *testing.T) {
				t.Parallel()
				w := id("cart")
				must(t, http.MethodPost, a+"/workflows", fmt.Sprintf(`{"workflowType":"Cart","workflowId":%q,"input":{"customerId":"ada"}}`, w), http.StatusCreated)
				u := must(t, http.MethodPost, b+"/workflows/"+w+"/updates/addItem", `{"input":{"sku":"A-1","quantity":2,"priceCents":1250}}`, http.StatusOK)
				assert.Equal(t, 2500.0, u.body["result"].(map[string]any)["totalCents"], u.raw)
				must(t, http.MethodPost, a+"/workflows/"+w+"/signals/checkout", `{"input":{"paymentReference":"pay-1"}}`, http.StatusAccepted, http.StatusNoContent, http.StatusOK)
				r := must(t, http.MethodGet, b+"/workflows/"+w+"?wait=60s", "", http.StatusOK)
				require.Equal(t, "COMPLETED", str(r.body, "status"), r.raw)
				result, _ := r.body["result"].(map[string]any)
				assert.Equal(t, 2500.0, result["totalCents"], r.raw)
				assert.Equal(t, "pay-1", result["paymentReference"])
			})
		})
	}
}

// waitClosed reads id through gateway until its latest run is no longer RUNNING, for up to 2
// minutes. A 503 is retried after its Retry-After, as the API asks of clients: right after a
// fault a read may still find Temporal unavailable.
func waitClosed(t *testing.T, gateway, id string) answer {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := must(t, http.MethodGet, gateway+"/workflows/"+id+"?wait=30s", "", http.StatusOK, http.StatusServiceUnavailable)
		if r.status == http.StatusServiceUnavailable {
			secs, err := strconv.Atoi(r.header.Get("Retry-After"))
			require.NoError(t, err, "a 503 says when to retry: %s", r.raw)
			require.True(t, time.Now().Before(deadline), "%s: still 503 after 2 minutes: %s", id, r.raw)
			time.Sleep(time.Duration(secs) * time.Second)
			continue
		}
		if str(r.body, "status") != "RUNNING" {
			return r
		}
		require.True(t, time.Now().Before(deadline), "%s still RUNNING after 2 minutes", id)
	}
}

//go:build linux

package cluster

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterVisibilityOnPostgres lists executions as GET /workflows documents it, on Temporal's
// SQL visibility store in PostgreSQL (the dev server's is SQLite): the filters by type, status
// and start time, pages that together hold every match once, and how long a new execution takes
// to appear in a list, which it measures and prints.
func TestClusterVisibilityOnPostgres(t *testing.T) {
	c := shared(t)
	a, b := c.GatewayURLs[0], c.GatewayURLs[1]
	since := time.Now().Add(-50 * time.Millisecond).UTC()
	stamp := since.UnixNano()
	list := func(gw string, q url.Values) answer {
		q.Set("startedAfter", since.Format(time.RFC3339Nano))
		return must(t, http.MethodGet, gw+"/workflows?"+q.Encode(), "", http.StatusOK)
	}
	ids := func(r answer) []string {
		var out []string
		for _, e := range r.body["executions"].([]any) {
			out = append(out, str(e.(map[string]any), "workflowId"))
		}
		return out
	}

	// A run that stays open, started before every closed one below.
	sleep := func(name string) string {
		id := fmt.Sprintf("cluster-vis-sleep-%d-%s", stamp, name)
		must(t, http.MethodPost, b+"/workflows", fmt.Sprintf(`{"workflowType":"Sleep","workflowId":%q,"input":{"seconds":600}}`, id), http.StatusCreated)
		t.Cleanup(func() {
			must(t, http.MethodPost, a+"/workflows/"+id+"/terminate", `{"reason":"test over"}`, http.StatusOK, http.StatusAccepted, http.StatusNoContent)
		})
		return id
	}
	sleepIDs := []string{sleep("early")}

	// How soon a started execution is listed: each start through one gateway, each list through
	// the other, every 10ms.
	var lags []time.Duration
	var echoIDs []string
	for i := range 20 {
		id := fmt.Sprintf("cluster-vis-echo-%d-%02d", stamp, i)
		must(t, http.MethodPost, a+"/workflows", fmt.Sprintf(`{"workflowType":"Echo","workflowId":%q,"input":%d}`, id, i), http.StatusCreated)
		acked := time.Now()
		echoIDs = append(echoIDs, id)
		for deadline := acked.Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if slices.Contains(ids(list(b, url.Values{"workflowType": {"Echo"}, "pageSize": {"1000"}})), id) {
				lags = append(lags, time.Since(acked))
				break
			}
			require.True(t, time.Now().Before(deadline), "%s not listed within 30s of its 201", id)
		}
	}
	slices.Sort(lags)
	fmt.Printf("cluster: a new execution is listed %s after its 201 at the median, %s at most (%d starts, lists every 10ms)\n",
		lags[len(lags)/2].Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond), len(lags))

	sleepIDs = append(sleepIDs, sleep("late-1"), sleep("late-2"))

	// Filters: what each matches once the store has caught up (the Echo runs complete at once).
	eventually := func(q url.Values, want []string) {
		t.Helper()
		slices.Sort(want)
		var got []string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			got = ids(list(a, q))
			slices.Sort(got)
			if slices.Equal(got, want) {
				return
			}
		}
		assert.Equal(t, want, got, "GET /workflows?%s", q.Encode())
	}
	eventually(url.Values{"workflowType": {"Echo"}, "status": {"COMPLETED"}}, slices.Clone(echoIDs))
	eventually(url.Values{"workflowType": {"Sleep"}, "status": {"RUNNING"}}, slices.Clone(sleepIDs))
	eventually(url.Values{"workflowType": {"Sleep"}, "status": {"COMPLETED"}}, nil)
	eventually(url.Values{"status": {"RUNNING"}, "workflowType": {"Echo"}}, nil)
	before := must(t, http.MethodGet, a+"/workflows?"+url.Values{"workflowType": {"Echo"},
		"startedBefore": {since.Format(time.RFC3339Nano)}, "pageSize": {"1000"}}.Encode(), "", http.StatusOK)
	for _, id := range ids(before) {
		assert.NotContains(t, echoIDs, id, "startedBefore leaves out what started after it")
	}

	// Paging: pages of 5 through either gateway hold every match once, in Temporal's order, and
	// the last page says so by having no token. The order is the visibility store's: open runs
	// first, newest start first, then closed runs, latest close first. The early Sleep, started
	// before every Echo, comes before them all because it is still open.
	var paged []string
	q := url.Values{"pageSize": {"5"}}
	for page := 0; ; page++ {
		require.Less(t, page, 20, "the pages end")
		r := list([]string{a, b}[page%2], q)
		got := ids(r)
		assert.LessOrEqual(t, len(got), 5)
		paged = append(paged, got...)
		token := str(r.body, "nextPageToken")
		if token == "" {
			break
		}
		q.Set("pageToken", token)
	}
	want := slices.Concat(echoIDs, sleepIDs)
	slices.Reverse(want) // late-2, late-1, early, then the Echo runs, the last closed first
	assert.Equal(t, want, paged, "every match once: open runs first, then closed ones, latest close first")
}

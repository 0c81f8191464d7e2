//go:build linux

package cluster

import (
	"context"

	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/temporalhttp/gateway/internal/faulttest"
)

// keyedClient is a client of both gateways as a load balancer's client sees them: each new start
// goes to one gateway, and a start without an answer (a broken connection, a 5xx, a 409 for a key
// in use) is sent again, with the same Idempotency-Key, to the other, until one answers it.
type keyedClient struct {
	gateways []string
	// inFlight counts the requests each gateway holds now, so the test can kill one while it
	// holds some.
	inFlight []atomic.Int32
	// killedAt is when the test killed a gateway (UnixNano; 0 before).
	killedAt atomic.Int64
	hc       *http.Client
	// giveUp bounds the retries of one start: the claim of a key whose gateway died is taken
	// over only after its lifetime (GATEWAY_TEMPORAL_TIMEOUT plus 10s).
	giveUp time.Duration
}

// keyedStart is how a keyed start was settled.
type keyedStart struct {
	answer   answer
	attempts int
	// cut says that an attempt was sent before the kill and failed without an answer: the
	// gateway died under it. (How it fails varies: net/http sends a request that carries an
	// Idempotency-Key again by itself when its kept-alive connection breaks, and that second try
	// meets a refused connection.)
	cut bool
}

// start sends body under key, first to gateway first, until a gateway answers it.
func (k *keyedClient) start(ctx context.Context, first int, key, body string) (keyedStart, error) {
	deadline := time.Now().Add(k.giveUp)
	var s keyedStart
	var last error
	for s.attempts = 1; ; s.attempts++ {
		n := (first + s.attempts - 1) % len(k.gateways)
		k.inFlight[n].Add(1)
		sent := time.Now().UnixNano()
		a, err := send(ctx, k.hc, http.MethodPost, k.gateways[n]+"/workflows", body, map[string]string{"Idempotency-Key": key})
		k.inFlight[n].Add(-1)
		s.answer = a
		switch {
		case err == nil && (a.status == http.StatusCreated || a.status == http.StatusOK):
			return s, nil
		case err == nil && a.status != http.StatusConflict && a.status < 500:
			return s, fmt.Errorf("key %s: %d %s", key, a.status, a.raw)
		case err == nil:
			last = fmt.Errorf("%d %s", a.status, a.raw)
		default:
			last = err
			killed := k.killedAt.Load()
			s.cut = s.cut || (killed != 0 && sent < killed)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return s, fmt.Errorf("key %s: no answer in %s: %w", key, k.giveUp, last)
		}
		wait := 200 * time.Millisecond
		if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err == nil && secs > 0 {
			wait = min(time.Duration(secs)*time.Second, 2*time.Second)
		}
		time.Sleep(wait)
	}
}

// TestClusterGatewayKilledMidLoad sends keyed Greeting starts, without workflow ids, over both
// gateways from several clients, kills gateway A with SIGKILL in the middle, and lets each client
// send what had no answer again to gateway B with the same key. Afterwards every key names one
// execution with one run, the run its answer named; Temporal holds no other Greeting started in
// that time; and every one completes.
func TestClusterGatewayKilledMidLoad(t *testing.T) {
	c := shared(t)
	const clients = 8
	kc := &keyedClient{gateways: c.GatewayURLs, inFlight: make([]atomic.Int32, len(c.GatewayURLs)),
		hc: &http.Client{Timeout: 30 * time.Second}, giveUp: 90 * time.Second}
	began := time.Now().Add(-time.Second) // the start times Temporal records, with a margin for clocks
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	t.Cleanup(halt) // a failed require below must not leave the clients starting into later tests
	type outcome struct {
		key, workflowID, runID string
		keyedStart
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		failures []error
		wg       sync.WaitGroup
	)
	for i := range clients {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("kill-gw-%d-%d-%d", began.UnixNano(), i, n)
				s, err := kc.start(context.Background(), i+n, key, `{"workflowType":"Greeting","input":{"name":"Ada"}}`)
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else {
					outcomes = append(outcomes, outcome{key, str(s.answer.body, "workflowId"), str(s.answer.body, "runId"), s})
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(4 * time.Second)
	// The kill falls while gateway A holds starts, so that some are cut off in flight.
	for deadline := time.Now().Add(10 * time.Second); kc.inFlight[0].Load() < 3; time.Sleep(time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "gateway A never held three starts at once")
	}
	kc.killedAt.Store(time.Now().UnixNano())
	require.NoError(t, c.Kill("gateway-1"))
	killed := time.Now()
	bringBack(t, c, "gateway-1")
	time.Sleep(4 * time.Second)
	halt()
	wg.Wait()
	settled := time.Since(killed)
	require.NoError(t, c.Restart(t.Context(), "gateway-1"), "gateway A comes back on its port")
	require.Empty(t, failures, "every start is answered through one gateway or the other")

	keys := map[string]outcome{} // by workflow id
	var cut, replayed int
	for _, o := range outcomes {
		require.NotEmpty(t, o.workflowID, "key %s: %s", o.key, o.answer.raw)
		require.NotEmpty(t, o.runID, "key %s: %s", o.key, o.answer.raw)
		if other, ok := keys[o.workflowID]; ok {
			t.Errorf("keys %s and %s name one execution %s", other.key, o.key, o.workflowID)
		}
		keys[o.workflowID] = o
		if o.cut {
			cut++
		}
		if o.answer.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	t.Logf("%d keyed starts; %d were cut off when gateway A died and went to B, which answered %d as replays; all answered %s after the kill",
		len(outcomes), cut, replayed, settled.Round(100*time.Millisecond))
	require.Positive(t, cut, "the kill cut starts off in flight")

	// Every run of a Greeting that Temporal started in that time is the one run a key named: no
	// start of a retry stands beside, or after, the one its first attempt made.
	sdk := sdkClient(t, c)
	query := fmt.Sprintf("WorkflowType = 'Greeting' AND StartTime >= '%s'", began.UTC().Format(time.RFC3339Nano))
	var runs map[string][]string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		runs = listRuns(t, sdk, query)
		if len(runs) >= len(keys) || time.Now().After(deadline) {
			break
		}
	}
	assert.Len(t, runs, len(keys), "as many executions as keys")
	for id, ids := range runs {
		o, ok := keys[id]
		if assert.True(t, ok, "execution %s is one a key names", id) {
			assert.Equal(t, []string{o.runID}, ids, "%s (key %s): one run, the one its answer named", id, o.key)
		}
	}
	for id, o := range keys {
		r := must(t, http.MethodGet, c.GatewayURLs[1]+"/workflows/"+id+"?runId="+o.runID+"&wait=30s", "", http.StatusOK)
		assert.Equal(t, "COMPLETED", str(r.body, "status"), "%s: %s", id, r.raw)
	}
}

// bringBack restarts the named process when the test ends, if it is not running then (the test
// failed before it brought it back), so that the next test starts on the whole cluster.
func bringBack(t *testing.T, c *Cluster, name string) {
	t.Cleanup(func() {
		if c.Running(name) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := c.Restart(ctx, name); err != nil {
			t.Errorf("bring %s back for the next test: %v", name, err)
		}
	})
}

// sdkClient is a Temporal client of the cluster's frontend, for what the test checks beneath
// the gateways.
func sdkClient(t *testing.T, c *Cluster) client.Client {
	t.Helper()
	sdk, err := client.Dial(client.Options{HostPort: c.Frontend, Namespace: c.Namespace, Logger: quietLogger{}})
	require.NoError(t, err)
	t.Cleanup(sdk.Close)
	return sdk
}

// listRuns lists the run ids of every execution the visibility query matches, by workflow id.
func listRuns(t *testing.T, sdk client.Client, query string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var token []byte
	for {
		resp, err := sdk.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		require.NoError(t, err)
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			out[id] = append(out[id], e.GetExecution().GetRunId())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out
		}
	}
}

// TestClusterWorkerKilledMidActivity holds every ledger movement for bankDelay, starts transfers
// that both workers take up, and once each has withdrawn (the money moved, the activity not yet
// reported) kills with SIGKILL the worker that holds the most of them, found by the identity
// Temporal records for each pending withdrawal. The other worker takes each of those withdrawals
// up again once its heartbeats stop, finishes every transfer, and the ledger the two share shows
// each amount moved once.
func TestClusterWorkerKilledMidActivity(t *testing.T) {
	c := shared(t)
	sdk := sdkClient(t, c)
	before := faulttest.ReadLedger(t, suite.bank)

	type transfer struct{ id, runID string }
	var transfers []transfer
	var total int64
	stamp := time.Now().UnixNano()
	for i := range 8 {
		id := fmt.Sprintf("cluster-kill-worker-%d-%d", stamp, i)
		amount := int64(100 * (i + 1))
		s := must(t, http.MethodPost, c.GatewayURLs[i%2]+"/workflows", fmt.Sprintf(
			`{"workflowType":"MoneyTransfer","workflowId":%q,"input":{"fromAccount":"alice","toAccount":"bob","amount":%d,"referenceId":%q}}`,
			id, amount, id), http.StatusCreated)
		transfers = append(transfers, transfer{id, str(s.body, "runId")})
		total += amount
	}
	withdrawn := func() bool {
		l := faulttest.ReadLedger(t, suite.bank)
		for _, tr := range transfers {
			if l.Transfers[tr.id].Withdrawal == "" {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(30 * time.Second); !withdrawn(); time.Sleep(20 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "withdrawals not all made within 30s")
	}

	// Which worker holds each withdrawal: the pid in the identity of the worker that started it.
	workers := map[string]string{} // pid -> worker-N
	for name, pid := range c.PIDs() {
		if strings.HasPrefix(name, "worker-") {
			workers[strconv.Itoa(pid)] = name
		}
	}
	held := map[string][]transfer{}
	for _, tr := range transfers {
		d, err := sdk.DescribeWorkflowExecution(t.Context(), tr.id, tr.runID)
		require.NoError(t, err)
		holder := ""
		for _, a := range d.GetPendingActivities() {
			if a.GetActivityType().GetName() == "WithdrawForTransfer" {
				pid, _, _ := strings.Cut(a.GetLastWorkerIdentity(), "@")
				holder = workers[pid]
			}
		}
		require.NotEmpty(t, holder, "%s: its withdrawal is held by one of the cluster's workers", tr.id)
		held[holder] = append(held[holder], tr)
	}
	victim, survivor := "worker-1", "worker-2"
	if len(held[survivor]) > len(held[victim]) {
		victim, survivor = survivor, victim
	}
	require.NoError(t, c.Kill(victim))
	killed := time.Now()
	bringBack(t, c, victim)
	atKill := faulttest.ReadLedger(t, suite.bank)
	require.Equal(t, before.Transactions+len(transfers), atKill.Transactions,
		"the kill fell while every withdrawal was held unreported, before any deposit")
	t.Logf("%s held %d withdrawals and was killed; %s held %d and ran on", victim, len(held[victim]), survivor, len(held[survivor]))

	for _, tr := range transfers {
		r := waitClosed(t, c.GatewayURLs[1], tr.id)
		require.Equal(t, "COMPLETED", str(r.body, "status"), "%s: %s", tr.id, r.raw)
		result, _ := r.body["result"].(map[string]any)
		assert.Equal(t, atKill.Transfers[tr.id].Withdrawal, str(result, "withdrawalId"), "the retried withdrawal answered the one made before the kill")
	}
	t.Logf("every transfer completed %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	for _, tr := range held[victim] {
		assert.Equal(t, int32(2), faulttest.WithdrawAttempt(t, sdk, tr.id, tr.runID), "%s: %s took the withdrawal up again", tr.id, survivor)
	}
	for _, tr := range held[survivor] {
		assert.Equal(t, int32(1), faulttest.WithdrawAttempt(t, sdk, tr.id, tr.runID), "%s: the kill did not touch %s's withdrawal", tr.id, survivor)
	}

	after := faulttest.ReadLedger(t, suite.bank)
	assert.Equal(t, before.Transactions+2*len(transfers), after.Transactions, "one withdrawal and one deposit per transfer, nothing more")
	assert.Equal(t, before.Balances["alice"]-total, after.Balances["alice"])
	assert.Equal(t, before.Balances["bob"]+total, after.Balances["bob"])
	assert.Equal(t, faulttest.Total(before.Balances), faulttest.Total(after.Balances), "no money made or lost")
}

// gatewayDeadline is the longest a start may take to answer: GATEWAY_TEMPORAL_TIMEOUT (10s, the
// default docker-compose.yml keeps) and a margin for the answer's own work.
const gatewayDeadline = 13 * time.Second

// TestClusterHistoryRestarted kills the history service, the one that owns every execution's
// state, and starts it again after a while.
func TestClusterHistoryRestarted(t *testing.T) {
	outage(t, shared(t), "history")
}

// TestClusterPostgresRestarted kills PostgreSQL, where every service keeps its state, and starts
// it again on the same data after a while.
func TestClusterPostgresRestarted(t *testing.T) {
	c := shared(t)
	if c.Postgres.proc == nil {
		fmt.Fprintln(os.Stderr, "cluster: SKIPPED TestClusterPostgresRestarted: CLUSTER_POSTGRES_URL names a PostgreSQL the cluster does not run, so it cannot restart it")
		t.Skip("CLUSTER_POSTGRES_URL names a PostgreSQL the cluster does not run, so it cannot restart it")
	}
	outage(t, c, "postgres")
}

// outage kills the named part of the cluster with SIGKILL, keeps it down for 15 seconds while
// starts arrive at both gateways, and starts it again. While it is down each start answers 201 or
// 503 with Retry-After, within the gateway's deadline: never a 500, never a hang. After, the same
// gateway processes start workflows again, and every start answered 201, before, during or after,
// is there and completes.
func outage(t *testing.T, c *Cluster, name string) {
	hc := &http.Client{Timeout: 2 * gatewayDeadline}
	stamp := time.Now().UnixNano()
	n := 0
	var acknowledged []string
	startOne := func() (answer, error) {
		n++
		id := fmt.Sprintf("cluster-outage-%s-%d-%d", name, stamp, n)
		a, err := send(context.Background(), hc, http.MethodPost, c.GatewayURLs[n%2]+"/workflows",
			fmt.Sprintf(`{"workflowType":"Sleep","workflowId":%q,"input":{"seconds":1}}`, id), nil)
		if err == nil && a.status == http.StatusCreated {
			acknowledged = append(acknowledged, id)
		}
		return a, err
	}
	for range 4 {
		a, err := startOne()
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, a.status, a.raw)
	}

	require.NoError(t, c.Kill(name))
	killed := time.Now()
	bringBack(t, c, name)
	statuses := map[int]int{}
	var slowest time.Duration
	var first503 string
	for time.Since(killed) < 15*time.Second {
		a, err := startOne()
		require.NoError(t, err, "%s down: the gateway answers, within its deadline", name)
		statuses[a.status]++
		slowest = max(slowest, a.took)
		assert.LessOrEqual(t, a.took, gatewayDeadline, "%s down: an answer within the gateway's deadline", name)
		switch a.status {
		case http.StatusCreated:
		case http.StatusServiceUnavailable:
			assert.NotEmpty(t, a.header.Get("Retry-After"), "a 503 says when to retry")
			assert.Equal(t, "application/problem+json", a.header.Get("Content-Type"))
			assert.Equal(t, "urn:temporal-http:problem:temporal-unavailable", str(a.body, "type"), a.raw)
			if first503 == "" {
				first503 = strings.TrimSpace(a.raw)
			}
		default:
			t.Errorf("%s down: %d %s", name, a.status, a.raw)
		}
		time.Sleep(250 * time.Millisecond)
	}
	require.Positive(t, statuses[http.StatusServiceUnavailable], "%s down: starts answer 503 (%v)", name, statuses)

	restarted := time.Now()
	require.NoError(t, c.Restart(t.Context(), name))
	var recovered time.Duration
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		a, err := startOne()
		require.NoError(t, err, "after the restart of %s", name)
		if a.status == http.StatusCreated {
			recovered = time.Since(restarted)
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, a.status, "after the restart of %s: %s", name, a.raw)
		require.True(t, time.Now().Before(deadline), "no start succeeded within 3 minutes of the restart of %s", name)
	}
	for _, id := range acknowledged {
		r := waitClosed(t, c.GatewayURLs[0], id)
		assert.Equal(t, "COMPLETED", str(r.body, "status"), "acknowledged start %s: %s", id, r.raw)
	}
	fmt.Printf("cluster: %s killed for 15s: answers while down %v (slowest %s), the first 503: %s; "+
		"first 201 %s after its restart; all %d acknowledged starts completed %s after it\n",
		name, statuses, slowest.Round(time.Millisecond), first503, recovered.Round(100*time.Millisecond),
		len(acknowledged), time.Since(restarted).Round(100*time.Millisecond))
	require.NoError(t, c.Exited(), "no gateway or worker needed a restart of its own")
}

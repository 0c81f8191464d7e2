//go:build linux

package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/config"
)

// The cluster suite: one cluster, shared by the tests of this package that run in
// `make cluster-test`, in the shape docker-compose.yml describes (two gateways and two workers,
// with its environment). Each fault test breaks one part of it and brings that part back before
// it ends, so the next test starts on the whole cluster again.

// bankDelay holds every ledger movement of the suite's workers (WORKER_BANK_DELAY) for less than
// MoneyTransfer's activity timeout (10s) and longer than its heartbeat timeout (5s): a worker
// killed during the hold has moved money without reporting it, and its activity is retried on
// the other worker once the heartbeats stop.
const bankDelay = 6 * time.Second

var suite struct {
	once sync.Once
	c    *Cluster
	dir  string
	bank string // the ledger file both workers share, on the volume docker-compose.yml gives them
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if suite.c != nil {
		suite.c.Stop()
	}
	if suite.dir != "" {
		if code == 0 {
			_ = os.RemoveAll(suite.dir)
		} else {
			fmt.Fprintf(os.Stderr, "cluster: the suite's logs are kept in %s\n", suite.dir)
		}
	}
	os.Exit(code)
}

// needCluster skips a test of the cluster unless CLUSTER_TEST is set, saying so on stderr: in CI
// the cluster tests run in `make cluster-test`, which sets it, and `make unit` leaves them out
// by name.
func needCluster(t *testing.T) {
	t.Helper()
	if os.Getenv("CLUSTER_TEST") == "" {
		fmt.Fprintf(os.Stderr, "cluster: SKIPPED %s: set CLUSTER_TEST=1 (make cluster-test) to run the multi-service cluster\n", t.Name())
		t.Skip("set CLUSTER_TEST=1 (make cluster-test) to run the multi-service cluster")
	}
}

// shared is the suite's cluster, started by the first test that asks for it, with every one of
// its processes running.
func shared(t *testing.T) *Cluster {
	t.Helper()
	needCluster(t)
	suite.once.Do(func() {
		cfg, err := config.LoadCluster(os.Getenv)
		if err != nil {
			suite.err = err
			return
		}
		if suite.dir, suite.err = os.MkdirTemp("", "cluster-suite-"); suite.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		suite.c, suite.err = Up(ctx, Options{Config: cfg, Dir: suite.dir, Workers: 2, Gateways: 2, Progress: os.Stderr,
			WorkerEnv: []string{"WORKER_BANK_DELAY=" + bankDelay.String()}})
		if suite.err == nil {
			// docker-compose.yml puts it on a volume that both workers mount.
			if suite.bank = suite.c.Setting("worker", "WORKER_BANK_FILE"); suite.bank == "" {
				suite.err = errors.New("docker-compose.yml gives the workers no WORKER_BANK_FILE to share")
			}
		}
	})
	require.NoError(t, suite.err, "the suite's cluster")
	require.NoError(t, suite.c.Exited(), "every process of the cluster runs at the start of %s", t.Name())
	return suite.c
}

// answer is one HTTP answer: its status, headers and JSON body (nil when it has none).
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
	took   time.Duration
}

// send makes one request and reads its whole answer; err is a transport error (a refused or
// broken connection, or no answer within the client's timeout).
func send(ctx context.Context, hc *http.Client, method, url, body string, header map[string]string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	began := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(data), took: time.Since(began)}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &a.body); err != nil {
			return a, fmt.Errorf("%s %s: %d with a body that is not a JSON object: %s", method, url, resp.StatusCode, data)
		}
	}
	return a, nil
}

// must sends a request that must get an answer with one of the statuses. It is bounded by its
// client's timeout, not the test's context, so that a cleanup can use it too.
func must(t *testing.T, method, url, body string, statuses ...int) answer {
	t.Helper()
	a, err := send(context.Background(), &http.Client{Timeout: 2 * time.Minute}, method, url, body, nil)
	require.NoError(t, err, "%s %s", method, url)
	require.Contains(t, statuses, a.status, "%s %s: %s", method, url, a.raw)
	return a
}

// str reads a string field of a JSON body.
func str(body map[string]any, key string) string {
	s, _ := body[key].(string)
	return s
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingClient is an HTTP client whose connections to the gateway are counted.
func countingClient(protocols *http.Protocols) (*http.Client, *atomic.Int32) {
	var dials atomic.Int32
	dialer := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		Protocols: protocols,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxConnsPerHost: 1,
	}}, &dials
}

// TestWaitKeepsItsConnection sends a waiting read and then another read on one HTTP/1.1
// connection: the wait is answered without Connection: close, and the next request reuses it.
func TestWaitKeepsItsConnection(t *testing.T) {
	c, dials := countingClient(nil)
	id := uniqueID(t)
	start(t, "Sleep", id, `{"seconds":1}`)
	for _, target := range []string{"/workflows/" + id + "?wait=20s", "/workflows/" + id, "/workflows/" + id + "?wait=1s"} {
		resp, err := c.Get(gatewayURL + target)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		assert.False(t, resp.Close, "%s: the answer keeps the connection", target)
		assert.Empty(t, resp.Header.Get("Connection"))
	}
	assert.Equal(t, int32(1), dials.Load(), "every request went on one connection")
}

// TestH2CCarriesManyWaitsOnOneConnection speaks HTTP/2 without TLS (prior knowledge) to the
// gateway: fifty waits on one connection are all answered when their run closes.
func TestH2CCarriesManyWaitsOnOneConnection(t *testing.T) {
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	c, dials := countingClient(&h2c)
	id := uniqueID(t)
	start(t, "Sleep", id, `{"seconds":2}`)

	const waits = 50
	var wg sync.WaitGroup
	statuses := make([]string, waits)
	protos := make([]int, waits)
	for i := range waits {
		wg.Go(func() {
			resp, err := c.Get(fmt.Sprintf("%s/workflows/%s?wait=30s", gatewayURL, id))
			if err != nil {
				statuses[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			protos[i] = resp.ProtoMajor
			var e struct{ Status string }
			if json.NewDecoder(resp.Body).Decode(&e) == nil {
				statuses[i] = e.Status
			}
		})
	}
	began := time.Now()
	wg.Wait()
	for i := range waits {
		assert.Equal(t, 2, protos[i], "answered over HTTP/2")
		assert.Equal(t, "COMPLETED", statuses[i])
	}
	assert.Equal(t, int32(1), dials.Load(), "one connection carried every wait")
	t.Logf("%d waits answered over one h2c connection in %s", waits, time.Since(began).Round(time.Millisecond))
}

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
)

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, path, contentType, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, gatewayURL+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header, b}
}

func start(t *testing.T, body string) response {
	t.Helper()
	return do(t, http.MethodPost, "/workflows", "application/json", body)
}

func execution(t *testing.T, r response) gen.Execution {
	t.Helper()
	var e gen.Execution
	require.NoError(t, json.Unmarshal(r.body, &e), "body: %s", r.body)
	return e
}

// problem checks that r is a problem+json answer with status and type, and returns it.
func problem(t *testing.T, r response, status int, typ string) gen.Problem {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	var p gen.Problem
	require.NoError(t, json.Unmarshal(r.body, &p))
	assert.Equal(t, status, p.Status)
	assert.Equal(t, typ, p.Type)
	for _, leak := range []string{"rpc error", "serviceerror", ".go:", "goroutine"} {
		assert.NotContains(t, string(r.body), leak)
	}
	return p
}

// waitClosed reads location until the execution is no longer RUNNING.
func waitClosed(t *testing.T, location string) gen.Execution {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := do(t, http.MethodGet, location, "", "")
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		e := execution(t, r)
		if e.Status != gen.ExecutionStatusRUNNING {
			return e
		}
		require.True(t, time.Now().Before(deadline), "execution at %s still RUNNING after 20s", location)
		time.Sleep(100 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, json.NewEncoder(&b).Encode(v))
	return b.String()
}

package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthcheckCommand(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	for _, tc := range []struct {
		name, addr string
		args       []string
		wantErr    string
	}{
		{name: "alive, on the image's wildcard address", addr: ":" + port, args: []string{"/healthz"}},
		{name: "not ready", addr: ":" + port, wantErr: "http://127.0.0.1:" + port + "/readyz: 503"},
		{name: "no health endpoint without WORKER_METRICS_ADDR", addr: "", wantErr: "WORKER_METRICS_ADDR is not set"},
		{name: "other paths are refused", addr: ":" + port, args: []string{"/metrics"}, wantErr: "usage: worker healthcheck"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(name string) string {
				if name == "WORKER_METRICS_ADDR" {
					return tc.addr
				}
				return ""
			}
			err := run(t.Context(), append([]string{"worker", "healthcheck"}, tc.args...), getenv, io.Discard, io.Discard)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

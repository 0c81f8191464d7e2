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

// fakeGateway answers /healthz with 200 and /readyz with readyStatus, on a loopback port.
func fakeGateway(t *testing.T, readyStatus int) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(readyStatus) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	return port
}

func TestHealthcheckCommand(t *testing.T) {
	ready, notReady := fakeGateway(t, http.StatusOK), fakeGateway(t, http.StatusServiceUnavailable)
	for _, tc := range []struct {
		name, addr string
		args       []string
		wantErr    string
	}{
		{name: "ready, on the image's wildcard address", addr: ":" + ready},
		{name: "ready, on loopback", addr: "127.0.0.1:" + ready},
		{name: "not ready", addr: ":" + notReady, wantErr: "503"},
		{name: "alive while not ready", addr: ":" + notReady, args: []string{"/healthz"}},
		{name: "explicit readiness", addr: ":" + notReady, args: []string{"/readyz"}, wantErr: "503"},
		{name: "other paths are refused", addr: ":" + ready, args: []string{"/metrics"}, wantErr: "usage: server healthcheck"},
		{name: "one path at most", addr: ":" + ready, args: []string{"/healthz", "/readyz"}, wantErr: "usage: server healthcheck"},
		{name: "an address the gateway would refuse", addr: ready, wantErr: "GATEWAY_HTTP_ADDR must be host:port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(name string) string {
				if name == "GATEWAY_HTTP_ADDR" {
					return tc.addr
				}
				return ""
			}
			err := run(t.Context(), append([]string{"server", "healthcheck"}, tc.args...), getenv, io.Discard, io.Discard)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

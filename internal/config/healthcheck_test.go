package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadGatewayHealthcheckReadsTheAddressAsTheGatewayDoes(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		want    string
		problem string
	}{
		{name: "the gateway's default", want: "127.0.0.1:8080"},
		{name: "trimmed as the gateway trims it", vars: map[string]string{"GATEWAY_HTTP_ADDR": " :9000 "}, want: ":9000"},
		{name: "an address the gateway would refuse", vars: map[string]string{"GATEWAY_HTTP_ADDR": "9000"},
			problem: "GATEWAY_HTTP_ADDR must be host:port"},
		{name: "nothing else is read", vars: map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "/missing.pem", "LOG_LEVEL": "loud"},
			want: "127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadGatewayHealthcheck(env(tt.vars))
			if tt.problem != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.problem)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Addr)
			gw, err := LoadGateway(env(tt.vars))
			if err == nil {
				assert.Equal(t, gw.HTTPAddr, cfg.Addr, "the address the gateway listens on")
			}
		})
	}
}

func TestLoadWorkerHealthcheckNeedsTheMetricsAddress(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		want    string
		problem string
	}{
		{name: "set", vars: map[string]string{"WORKER_METRICS_ADDR": " :9090 "}, want: ":9090"},
		{name: "not set: nothing to probe", problem: "WORKER_METRICS_ADDR is not set"},
		{name: "not host:port", vars: map[string]string{"WORKER_METRICS_ADDR": "9090"}, problem: "WORKER_METRICS_ADDR must be host:port"},
		{name: "nothing else is read", vars: map[string]string{"WORKER_METRICS_ADDR": ":9090", "TEMPORAL_ADDRESS": "no-port"}, want: ":9090"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadWorkerHealthcheck(env(tt.vars))
			if tt.problem != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.problem)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Addr)
		})
	}
}

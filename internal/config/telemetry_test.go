package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTelemetryDefaultsLeaveTracingOff(t *testing.T) {
	gw, err := LoadGateway(env(nil))
	require.NoError(t, err)
	assert.Equal(t, Telemetry{ServiceName: "temporal-http-gateway", TracesProtocol: ProtocolHTTP}, gw.Telemetry,
		"no endpoint: tracing is off")

	w, err := LoadWorker(env(nil))
	require.NoError(t, err)
	assert.Equal(t, Telemetry{ServiceName: "temporal-http-worker", TracesProtocol: ProtocolHTTP}, w.Telemetry,
		"no endpoint and no metrics address")
}

func TestTelemetryReadsTheOTelVariables(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want Telemetry
	}{
		{
			name: "base endpoint over HTTP gets the traces path",
			vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/", "OTEL_SERVICE_NAME": "edge"},
			want: Telemetry{ServiceName: "edge", TracesEndpoint: "http://collector:4318/v1/traces", TracesProtocol: ProtocolHTTP},
		},
		{
			name: "base endpoint over gRPC is used as given",
			vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			want: Telemetry{ServiceName: "temporal-http-gateway", TracesEndpoint: "https://collector:4317", TracesProtocol: ProtocolGRPC},
		},
		{
			name: "the traces endpoint wins and is used as given",
			vars: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://ignored:4318",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:9999/custom",
			},
			want: Telemetry{ServiceName: "temporal-http-gateway", TracesEndpoint: "http://traces:9999/custom", TracesProtocol: ProtocolHTTP},
		},
		{
			name: "the traces protocol wins",
			vars: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://collector:4317",
				"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
				"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
			},
			want: Telemetry{ServiceName: "temporal-http-gateway", TracesEndpoint: "http://collector:4317", TracesProtocol: ProtocolGRPC},
		},
		{
			name: "headers are decoded; the traces headers win",
			vars: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT":       "http://collector:4318",
				"OTEL_EXPORTER_OTLP_HEADERS":        "ignored=1",
				"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-api-key=abc%3D%3D, x-team = core",
			},
			want: Telemetry{
				ServiceName: "temporal-http-gateway", TracesEndpoint: "http://collector:4318/v1/traces", TracesProtocol: ProtocolHTTP,
				TracesHeaders: map[string]string{"x-api-key": "abc==", "x-team": "core"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadGateway(env(tt.vars))
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Telemetry)
		})
	}
}

func TestWorkerMetricsAddr(t *testing.T) {
	cfg, err := LoadWorker(env(map[string]string{"WORKER_METRICS_ADDR": ":9090"}))
	require.NoError(t, err)
	assert.Equal(t, ":9090", cfg.Telemetry.MetricsAddr)
}

func TestTelemetryRefusesInvalidSettings(t *testing.T) {
	tests := []struct {
		name    string
		load    func(func(string) string) error
		vars    map[string]string
		wantErr string
	}{
		{"unknown protocol", loadGatewayErr, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc"},
		{"unknown traces protocol", loadGatewayErr, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be http/protobuf or grpc"},
		{"endpoint without scheme", loadGatewayErr, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT must be a URL"},
		{"traces endpoint not a URL", loadGatewayErr, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be a URL"},
		{"header without value", loadGatewayErr, map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization"}, "OTEL_EXPORTER_OTLP_HEADERS must be comma-separated key=value pairs"},
		{"bad escape in traces header", loadGatewayErr, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "k=%zz"}, "OTEL_EXPORTER_OTLP_TRACES_HEADERS must be"},
		{"worker metrics address", loadWorkerErr, map[string]string{"WORKER_METRICS_ADDR": "9090"}, "WORKER_METRICS_ADDR must be host:port"},
		{"worker protocol", loadWorkerErr, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "json"}, "OTEL_EXPORTER_OTLP_PROTOCOL must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.load(env(tt.vars))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestTelemetryErrorsNeverEchoHeaderValues(t *testing.T) {
	_, err := LoadGateway(env(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cr3t,broken"}))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func loadGatewayErr(getenv func(string) string) error { _, err := LoadGateway(getenv); return err }
func loadWorkerErr(getenv func(string) string) error  { _, err := LoadWorker(getenv); return err }

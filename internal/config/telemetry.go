package config

import (
	"net"
	"net/url"
	"strings"
)

// Telemetry says how a process reports what it does. Metrics are always kept (the gateway serves
// them at /metrics); traces leave the process only when an OTLP endpoint is configured.
//
// The variables are OpenTelemetry's own, so that the collector setup an operator already has for
// other services works unchanged. The OpenTelemetry SDK itself still honours its other OTEL_*
// variables (sampler, batch sizes, exporter TLS, timeout and compression): they tune what is
// configured here and cannot turn export on.
type Telemetry struct {
	// ServiceName names the process in traces (OTEL_SERVICE_NAME).
	ServiceName string
	// TracesEndpoint is the URL traces are exported to, complete with its path for HTTP. Empty
	// means tracing is off: no exporter, no background work, no network. It is
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or else OTEL_EXPORTER_OTLP_ENDPOINT with
	// /v1/traces appended for HTTP, as the OTLP exporter specification says.
	TracesEndpoint string
	// TracesProtocol is ProtocolHTTP or ProtocolGRPC (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else
	// OTEL_EXPORTER_OTLP_PROTOCOL).
	TracesProtocol string
	// TracesHeaders go with every export, such as the API key of a hosted backend
	// (OTEL_EXPORTER_OTLP_TRACES_HEADERS, else OTEL_EXPORTER_OTLP_HEADERS: key=value pairs,
	// comma-separated, values URL-encoded).
	TracesHeaders map[string]string
	// MetricsAddr is where the worker serves /metrics (WORKER_METRICS_ADDR); empty means not at
	// all. The gateway serves /metrics on its API listener and leaves this empty.
	MetricsAddr string
}

// OTLP protocols the trace exporter speaks.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Service names each deployable reports when OTEL_SERVICE_NAME is not set.
const (
	DefaultGatewayServiceName = "temporal-http-gateway"
	DefaultWorkerServiceName  = "temporal-http-worker"
)

func (r *reader) gatewayTelemetry() Telemetry {
	return r.telemetry(DefaultGatewayServiceName)
}

func (r *reader) workerTelemetry() Telemetry {
	t := r.telemetry(DefaultWorkerServiceName)
	t.MetricsAddr = r.metricsAddr()
	return t
}

// metricsAddr reads where the worker serves /metrics and its health, which its health check
// probes too.
func (r *reader) metricsAddr() string {
	addr := r.str("WORKER_METRICS_ADDR", "")
	if addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			r.fail("WORKER_METRICS_ADDR", "must be host:port, such as 127.0.0.1:9090 or :9090")
		}
	}
	return addr
}

func (r *reader) telemetry(serviceName string) Telemetry {
	t := Telemetry{
		ServiceName:    r.str("OTEL_SERVICE_NAME", serviceName),
		TracesProtocol: r.str("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", r.str("OTEL_EXPORTER_OTLP_PROTOCOL", ProtocolHTTP)),
	}
	protocolVar := "OTEL_EXPORTER_OTLP_PROTOCOL"
	if r.str("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "") != "" {
		protocolVar = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	}
	if t.TracesProtocol != ProtocolHTTP && t.TracesProtocol != ProtocolGRPC {
		// http/json is in the specification but not in the Go exporter.
		r.fail(protocolVar, "must be http/protobuf or grpc")
	}

	endpointVar, endpoint := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", r.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	if endpoint == "" {
		endpointVar, endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT", r.str("OTEL_EXPORTER_OTLP_ENDPOINT", "")
		if endpoint != "" && t.TracesProtocol == ProtocolHTTP {
			// The base endpoint names the receiver; each signal has its own path below it.
			endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
		}
	}
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.fail(endpointVar, "must be a URL such as http://otel-collector:4318 (https for TLS)")
		}
	}
	t.TracesEndpoint = endpoint

	headersVar, headers := "OTEL_EXPORTER_OTLP_TRACES_HEADERS", r.str("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "")
	if headers == "" {
		headersVar, headers = "OTEL_EXPORTER_OTLP_HEADERS", r.str("OTEL_EXPORTER_OTLP_HEADERS", "")
	}
	if headers != "" {
		parsed, ok := parseOTLPHeaders(headers)
		if !ok {
			// The value may hold a secret: name the variable, never echo it.
			r.fail(headersVar, "must be comma-separated key=value pairs with URL-encoded values")
		}
		t.TracesHeaders = parsed
	}
	return t
}

// parseOTLPHeaders reads the W3C-baggage-like list the OTLP exporter specification defines.
func parseOTLPHeaders(s string) (map[string]string, bool) {
	headers := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, false
		}
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, false
		}
		headers[k] = value
	}
	return headers, true
}

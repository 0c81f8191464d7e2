package config

import (
	"fmt"
	"net"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// Temporal says where the Temporal service is, how to connect to it, and which namespace and task
// queue to use.
//
// The connection settings are Temporal's own (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
// TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME, ... and TEMPORAL_CONFIG_FILE with
// TEMPORAL_PROFILE), read by the SDK's envconfig package, so that a Temporal Cloud user sets the
// same variables as for the Temporal CLI.
type Temporal struct {
	Address   string // TEMPORAL_ADDRESS
	Namespace string // TEMPORAL_NAMESPACE
	TaskQueue string // TEMPORAL_TASK_QUEUE
	// Connection holds what envconfig built: host, namespace, TLS (with the client certificate
	// already loaded) and API-key credentials. Logger, metrics and interceptors are added by the
	// process that dials.
	Connection client.Options
	// TLS, ClientCert and APIKey say, for logs and errors, how the connection is secured; never
	// the secrets.
	TLS, ClientCert, APIKey bool
	// Compression is how gRPC requests to Temporal are compressed: "gzip" (the SDK's default)
	// or "none" (TEMPORAL_GRPC_COMPRESSION; the default depends on the process).
	Compression string
}

// Security describes how the connection is secured, for the start-up log and connection errors.
func (t Temporal) Security() string {
	return fmt.Sprintf("tls %t, client certificate %t, api key %t", t.TLS, t.ClientCert, t.APIKey)
}

// envLookup lets envconfig read the variables through the getenv that run was given. An empty
// variable counts as unset, as everywhere else in this package.
type envLookup func(string) string

func (e envLookup) LookupEnv(name string) (string, bool) {
	v := e(name)
	return v, v != ""
}

// Environ is what envconfig scans for TEMPORAL_GRPC_META_* headers; a getenv cannot list the
// environment, so those are not supported.
func (e envLookup) Environ() []string { return nil }

// The default compression of gRPC requests to Temporal, per process. The gateway's requests are
// small (a start, a describe, a signal), where gzip costs more CPU than it saves bytes: in the
// benchmark it was 15% of the gateway's CPU per start (docs/benchmarks.md). A worker's requests
// carry whole activity results and workflow task completions, so it keeps the SDK's gzip.
const (
	GatewayGRPCCompression = "none"
	WorkerGRPCCompression  = "gzip"
)

func (r *reader) temporal(defaultCompression string) Temporal {
	lookup := envLookup(r.getenv)
	// A profile file is read only when TEMPORAL_CONFIG_FILE names one: a server process should not
	// pick up whatever CLI profile happens to sit in the home directory of the user running it.
	file := strings.TrimSpace(r.getenv("TEMPORAL_CONFIG_FILE"))
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
		ConfigFilePath: file,
		DisableFile:    file == "",
		EnvLookup:      lookup,
	})
	if err != nil {
		r.fail("TEMPORAL_CONFIG_FILE/TEMPORAL_PROFILE", "cannot be loaded: "+err.Error())
	}
	if prof.Address == "" {
		prof.Address = DefaultTemporalAddress
	}
	if prof.Namespace == "" {
		prof.Namespace = DefaultNamespace
	}
	t := Temporal{
		Address:   prof.Address,
		Namespace: prof.Namespace,
		TaskQueue: r.str("TEMPORAL_TASK_QUEUE", DefaultTaskQueue),
		APIKey:    prof.APIKey != "",
	}
	if _, _, err := net.SplitHostPort(t.Address); err != nil {
		r.fail("TEMPORAL_ADDRESS", "must be host:port, such as 127.0.0.1:7233")
	}
	// ToClientOptions reads the certificate, key and CA files now, so that a missing or unreadable
	// file, or a certificate without its key, stops the process at start rather than at first use.
	opts, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		r.fail("TEMPORAL_TLS_*", "are invalid: "+err.Error())
	}
	t.Compression = strings.ToLower(r.str("TEMPORAL_GRPC_COMPRESSION", defaultCompression))
	switch t.Compression {
	case "gzip":
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionGzip{}
	case "none":
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	default:
		r.fail("TEMPORAL_GRPC_COMPRESSION", "must be gzip or none")
	}
	t.Connection = opts
	t.TLS = opts.ConnectionOptions.TLS != nil && !opts.ConnectionOptions.TLSDisabled
	t.ClientCert = t.TLS && len(opts.ConnectionOptions.TLS.Certificates) > 0
	return t
}

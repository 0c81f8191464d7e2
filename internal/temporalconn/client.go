// Package temporalconn makes the options of the one Temporal client a process holds, gateway or
// worker, from its configuration. It knows no workflow: the gateway links it without the
// worker's workflow code.
package temporalconn

import (
	"context"
	"log/slog"
	"slices"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/temporalhttp/gateway/internal/config"
)

// ClientOptions are the options of the one Temporal client a process holds: the connection the
// configuration describes (address, namespace, TLS, API key) and the process's logger. Callers
// add metrics and interceptors.
func ClientOptions(cfg config.Temporal, logger *slog.Logger) client.Options {
	opts := cfg.Connection
	opts.HostPort = cfg.Address
	opts.Namespace = cfg.Namespace
	opts.Logger = sdklog.NewStructuredLogger(logger)
	// Runs after the SDK's own interceptors, which add the header it looks at.
	opts.ConnectionOptions.DialOptions = append(slices.Clip(opts.ConnectionOptions.DialOptions),
		grpc.WithChainUnaryInterceptor(dropUnsendableResourceID))
	return opts
}

// resourceIDHeader is the routing hint that the SDK adds to every call about one workflow, with
// the workflow id in it as it is.
const resourceIDHeader = "temporal-resource-id"

// dropUnsendableResourceID leaves out a resource id header that gRPC would refuse to send: a
// header value must be printable ASCII, so a call about a workflow id such as "café" or one with
// a tab in it would fail before leaving the process, and every such execution would be out of
// reach. The header is only a hint; Temporal reads the workflow id from the request itself.
func dropUnsendableResourceID(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if md, ok := metadata.FromOutgoingContext(ctx); ok && slices.ContainsFunc(md.Get(resourceIDHeader), unprintable) {
		md.Delete(resourceIDHeader) // FromOutgoingContext hands out a copy
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// unprintable says whether s has a byte that a gRPC header value may not hold.
func unprintable(s string) bool {
	return slices.ContainsFunc([]byte(s), func(b byte) bool { return b < 0x20 || b > 0x7e })
}

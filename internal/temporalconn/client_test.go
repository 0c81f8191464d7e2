package temporalconn

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/temporalhttp/gateway/internal/config"
)

// keyCheckingFrontend stands in for a Temporal frontend that, like Temporal Cloud, refuses calls
// without the right API key, and records what each call carried.
type keyCheckingFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	want string

	mu   sync.Mutex
	seen []metadata.MD
}

func (f *keyCheckingFrontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func (f *keyCheckingFrontend) check(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.seen = append(f.seen, md)
	f.mu.Unlock()
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+f.want {
		return nil, status.Error(codes.Unauthenticated, "missing or wrong API key")
	}
	return next(ctx, req)
}

func startKeyCheckingFrontend(t *testing.T, key string) (*keyCheckingFrontend, string) {
	t.Helper()
	f := &keyCheckingFrontend{want: key}
	srv := grpc.NewServer(grpc.UnaryInterceptor(f.check))
	workflowservice.RegisterWorkflowServiceServer(srv, f)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return f, ln.Addr().String()
}

// TestClientSendsTheAPIKeyFromTheEnvironment shows that TEMPORAL_API_KEY, read by envconfig, reaches
// Temporal on every call as a bearer token, and that without it the connection is refused.
func TestClientSendsTheAPIKeyFromTheEnvironment(t *testing.T) {
	frontend, addr := startKeyCheckingFrontend(t, "key-123")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dial := func(vars map[string]string) error {
		cfg, err := config.LoadWorker(func(name string) string { return vars[name] })
		require.NoError(t, err)
		c, err := client.DialContext(t.Context(), ClientOptions(cfg.Temporal, logger))
		if err == nil {
			c.Close()
		}
		return err
	}

	// TLS off only because this stand-in speaks plain gRPC; with an API key TLS is on by default.
	require.NoError(t, dial(map[string]string{"TEMPORAL_ADDRESS": addr, "TEMPORAL_API_KEY": "key-123", "TEMPORAL_TLS": "false", "TEMPORAL_NAMESPACE": "ns.acct"}))
	frontend.mu.Lock()
	require.NotEmpty(t, frontend.seen)
	assert.Equal(t, []string{"Bearer key-123"}, frontend.seen[0].Get("authorization"))
	frontend.mu.Unlock()

	err := dial(map[string]string{"TEMPORAL_ADDRESS": addr, "TEMPORAL_API_KEY": "wrong", "TEMPORAL_TLS": "false"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing or wrong API key")
	require.Error(t, dial(map[string]string{"TEMPORAL_ADDRESS": addr}))
}

// recordingFrontend answers Describe with NotFound and records the metadata of each call.
type recordingFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer

	mu   sync.Mutex
	seen []metadata.MD
}

func (f *recordingFrontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func (f *recordingFrontend) DescribeWorkflowExecution(ctx context.Context, _ *workflowservice.DescribeWorkflowExecutionRequest) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.seen = append(f.seen, md)
	f.mu.Unlock()
	return nil, status.Error(codes.NotFound, "no such workflow")
}

// TestClientReachesWorkflowIDsThatAreNotPrintableASCII shows that a call about a workflow id that
// a gRPC header cannot hold reaches Temporal (without the SDK's resource id hint), while an ASCII
// id keeps the hint.
func TestClientReachesWorkflowIDsThatAreNotPrintableASCII(t *testing.T) {
	frontend := &recordingFrontend{}
	srv := grpc.NewServer()
	workflowservice.RegisterWorkflowServiceServer(srv, frontend)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	cfg, err := config.LoadWorker(func(name string) string {
		return map[string]string{"TEMPORAL_ADDRESS": ln.Addr().String()}[name]
	})
	require.NoError(t, err)
	c, err := client.DialContext(t.Context(), ClientOptions(cfg.Temporal, slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	t.Cleanup(c.Close)

	tests := []struct {
		workflowID string
		wantHint   []string
	}{
		{"greeting-ada", []string{"workflow:greeting-ada"}},
		{"café", nil},
		{"日本", nil},
		{"tab\there", nil},
	}
	for _, tt := range tests {
		t.Run(tt.workflowID, func(t *testing.T) {
			frontend.mu.Lock()
			frontend.seen = nil
			frontend.mu.Unlock()

			_, err := c.DescribeWorkflowExecution(t.Context(), tt.workflowID, "")
			require.Error(t, err)
			assert.Equal(t, codes.NotFound, serviceerror.ToStatus(err).Code(), "the call did not reach Temporal: %v", err)
			frontend.mu.Lock()
			defer frontend.mu.Unlock()
			require.Len(t, frontend.seen, 1)
			assert.Equal(t, tt.wantHint, frontend.seen[0].Get("temporal-resource-id"))
		})
	}
}

// Package schedules is the core of the gateway's schedules: a schedule's definition as the
// gateway knows it, its translation to and from Temporal's, and the one place where a stale
// version (If-Match) is found out. It knows Temporal and knows no HTTP.
package schedules

import (
	"context"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Client is what the core needs of Temporal: its schedule calls, raw. The SDK's schedule client
// keeps the conflict token of a schedule to itself (its Update reads and writes inside one call),
// and the gateway must hand that token to its clients as the schedule's ETag, so the core speaks
// to the service directly. SDKClient satisfies it; unit tests use a small fake.
type Client interface {
	CreateSchedule(ctx context.Context, req *workflowservice.CreateScheduleRequest) (*workflowservice.CreateScheduleResponse, error)
	DescribeSchedule(ctx context.Context, req *workflowservice.DescribeScheduleRequest) (*workflowservice.DescribeScheduleResponse, error)
	UpdateSchedule(ctx context.Context, req *workflowservice.UpdateScheduleRequest) (*workflowservice.UpdateScheduleResponse, error)
	PatchSchedule(ctx context.Context, req *workflowservice.PatchScheduleRequest) (*workflowservice.PatchScheduleResponse, error)
	DeleteSchedule(ctx context.Context, req *workflowservice.DeleteScheduleRequest) (*workflowservice.DeleteScheduleResponse, error)
	ListSchedules(ctx context.Context, req *workflowservice.ListSchedulesRequest) (*workflowservice.ListSchedulesResponse, error)
}

// SDKClient is Client over the SDK client's connection to the workflow service, so that the
// connection's interceptors (credentials, tracing, the gateway's own) apply to these calls too.
type SDKClient struct {
	c client.Client
}

var _ Client = (*SDKClient)(nil)

// NewSDKClient wraps c.
func NewSDKClient(c client.Client) *SDKClient { return &SDKClient{c: c} }

// CreateSchedule implements Client.
func (s *SDKClient) CreateSchedule(ctx context.Context, req *workflowservice.CreateScheduleRequest) (*workflowservice.CreateScheduleResponse, error) {
	return s.c.WorkflowService().CreateSchedule(ctx, req)
}

// DescribeSchedule implements Client.
func (s *SDKClient) DescribeSchedule(ctx context.Context, req *workflowservice.DescribeScheduleRequest) (*workflowservice.DescribeScheduleResponse, error) {
	return s.c.WorkflowService().DescribeSchedule(ctx, req)
}

// UpdateSchedule implements Client.
func (s *SDKClient) UpdateSchedule(ctx context.Context, req *workflowservice.UpdateScheduleRequest) (*workflowservice.UpdateScheduleResponse, error) {
	return s.c.WorkflowService().UpdateSchedule(ctx, req)
}

// PatchSchedule implements Client.
func (s *SDKClient) PatchSchedule(ctx context.Context, req *workflowservice.PatchScheduleRequest) (*workflowservice.PatchScheduleResponse, error) {
	return s.c.WorkflowService().PatchSchedule(ctx, req)
}

// DeleteSchedule implements Client.
func (s *SDKClient) DeleteSchedule(ctx context.Context, req *workflowservice.DeleteScheduleRequest) (*workflowservice.DeleteScheduleResponse, error) {
	return s.c.WorkflowService().DeleteSchedule(ctx, req)
}

// ListSchedules implements Client.
func (s *SDKClient) ListSchedules(ctx context.Context, req *workflowservice.ListSchedulesRequest) (*workflowservice.ListSchedulesResponse, error) {
	return s.c.WorkflowService().ListSchedules(ctx, req)
}

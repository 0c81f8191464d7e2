package schedules

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/temporalhttp/gateway/internal/pagetoken"
)

// Options configure the Service.
type Options struct {
	// Namespace is the Temporal namespace of the schedules.
	Namespace string
	// TaskQueue is where an action that names no task queue starts its workflow.
	TaskQueue string
	// CallTimeout bounds each call to Temporal.
	CallTimeout time.Duration
	// Identity names the gateway in Temporal's records of its calls.
	Identity string
}

// Service carries out the schedule operations over a Client.
type Service struct {
	client Client
	opts   Options
}

// New returns the Service over c.
func New(c Client, opts Options) *Service {
	if opts.Namespace == "" {
		opts.Namespace = client.DefaultNamespace // as the SDK's client does when none is configured
	}
	return &Service{client: c, opts: opts}
}

// ErrNotFound says that no schedule has the id.
var ErrNotFound = errors.New("no such schedule")

// ErrChanged says that the schedule is not the version an update named: it changed since it was
// read, or while the update was being made.
var ErrChanged = errors.New("the schedule is not the version named")

// ErrUnconfirmed says that an update was sent but the read that tells whether it took effect
// failed: the schedule may or may not be the update's.
var ErrUnconfirmed = errors.New("the update was sent, and whether it took effect could not be read")

// ErrBadPageToken says that a page token is not one the list handed out.
var ErrBadPageToken = errors.New("not a page token of the schedule list")

// ExistsError says that a schedule with the id exists already.
type ExistsError struct{ ID string }

func (e *ExistsError) Error() string { return fmt.Sprintf("schedule %q exists already", e.ID) }

// revisionHeader is the field of an action's header that carries the revision of the update that
// wrote the action, a random id per write. Temporal answers an update with a stale conflict token
// with success and drops it (its scheduler workflow only logs "Update conflicted with concurrent
// change"), so an update finds out whether it took effect by reading its revision back. Temporal
// passes the header to the runs the schedule starts, where the gateway's workers ignore it.
const revisionHeader = "temporal-http-schedule-revision"

func (s *Service) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.CallTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opts.CallTimeout)
}

// Create creates sch and answers it as the create knows it: what it was given, and its first
// version.
func (s *Service) Create(ctx context.Context, sch Schedule) (Schedule, error) {
	proto, err := sch.toProto(s.opts.TaskQueue)
	if err != nil {
		return Schedule{}, err
	}
	_, requestID, err := stamp(proto)
	if err != nil {
		return Schedule{}, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	resp, err := s.client.CreateSchedule(ctx, &workflowservice.CreateScheduleRequest{
		Namespace: s.opts.Namespace, ScheduleId: sch.ID, Schedule: proto,
		Identity: s.opts.Identity, RequestId: string(requestID),
	})
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return Schedule{}, &ExistsError{ID: sch.ID}
		}
		return Schedule{}, fmt.Errorf("create schedule %q: %w", sch.ID, err)
	}
	created := fromProto(sch.ID, proto, nil, resp.GetConflictToken())
	return created, nil
}

// Get reads the schedule id, with its version and what it did and will do.
func (s *Service) Get(ctx context.Context, id string) (Schedule, error) {
	resp, err := s.describe(ctx, id)
	if err != nil {
		return Schedule{}, err
	}
	return fromProto(id, resp.GetSchedule(), resp.GetInfo(), resp.GetConflictToken()), nil
}

func (s *Service) describe(ctx context.Context, id string) (*workflowservice.DescribeScheduleResponse, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	for wait := busyRetry; ; wait = min(2*wait, maxBusyRetry) {
		resp, err := s.client.DescribeSchedule(ctx, &workflowservice.DescribeScheduleRequest{Namespace: s.opts.Namespace, ScheduleId: id})
		if err == nil {
			return resp, nil
		}
		if !busy(err) {
			return nil, scheduleError("describe", id, err)
		}
		select {
		case <-ctx.Done():
			return nil, scheduleError("describe", id, err)
		case <-time.After(wait):
		}
	}
}

// A schedule is read by a query of its scheduler workflow, and Temporal holds at most one such
// query of a workflow while the workflow is busy, refusing the next as RESOURCE_EXHAUSTED (BUSY_
// WORKFLOW, "consistent query buffer is full"). That is a moment's wait, not an outage: the
// read is tried again, within the call's time.
const (
	busyRetry    = 20 * time.Millisecond
	maxBusyRetry = 320 * time.Millisecond
)

func busy(err error) bool {
	var exhausted *serviceerror.ResourceExhausted
	return errors.As(err, &exhausted) && exhausted.Cause == enumspb.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW
}

// Update replaces the spec, action and policies of the schedule id with those of sch, and its
// state unless sch.State is nil. It goes ahead only while the schedule is one of the versions
// named in match (any version when match is nil), and answers ErrChanged otherwise.
//
// Temporal checks the conflict token of an update only when its scheduler workflow applies it,
// after the call has answered, and drops a stale one silently. So the update is checked three
// times: its version against the one read just before (which is then the token sent), by
// Temporal against that token, and by a read afterwards that must find the revision this update
// wrote. What remains: another writer's update that lands after this one is applied and before
// the read back makes this one answer ErrChanged though it was applied, then replaced; the
// answer still tells the truth that the schedule is not what this update wrote.
func (s *Service) Update(ctx context.Context, id string, match [][]byte, sch Schedule) (Schedule, error) {
	current, err := s.describe(ctx, id)
	if err != nil {
		return Schedule{}, err
	}
	if match != nil && !matches(match, version(current.GetConflictToken(), revisionOf(current.GetSchedule()))) {
		return Schedule{}, ErrChanged
	}
	proto, err := sch.toProto(s.opts.TaskQueue)
	if err != nil {
		return Schedule{}, err
	}
	if sch.State == nil {
		proto.State = current.GetSchedule().GetState()
	}
	revision, requestID, err := stamp(proto)
	if err != nil {
		return Schedule{}, err
	}
	if err := s.withCall(ctx, func(ctx context.Context) error {
		_, err := s.client.UpdateSchedule(ctx, &workflowservice.UpdateScheduleRequest{
			Namespace: s.opts.Namespace, ScheduleId: id, Schedule: proto,
			ConflictToken: current.GetConflictToken(), Identity: s.opts.Identity, RequestId: string(requestID),
		})
		return err
	}); err != nil {
		return Schedule{}, scheduleError("update", id, err)
	}
	after, err := s.describe(ctx, id)
	if err != nil {
		return Schedule{}, fmt.Errorf("%w: %w", ErrUnconfirmed, err)
	}
	if !bytes.Equal(revisionOf(after.GetSchedule()), revision) {
		return Schedule{}, ErrChanged
	}
	return fromProto(id, after.GetSchedule(), after.GetInfo(), after.GetConflictToken()), nil
}

func (s *Service) withCall(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return f(ctx)
}

func matches(match [][]byte, token []byte) bool {
	for _, m := range match {
		if bytes.Equal(m, token) {
			return true
		}
	}
	return false
}

// Pause pauses the schedule id with note.
func (s *Service) Pause(ctx context.Context, id, note string) error {
	if note == "" {
		note = "paused" // Temporal takes an empty pause note for no pause at all
	}
	return s.patch(ctx, "pause", id, &schedulepb.SchedulePatch{Pause: note})
}

// Unpause unpauses the schedule id with note.
func (s *Service) Unpause(ctx context.Context, id, note string) error {
	if note == "" {
		note = "unpaused" // as for Pause
	}
	return s.patch(ctx, "unpause", id, &schedulepb.SchedulePatch{Unpause: note})
}

// Trigger has the schedule id take its action now, under overlap (its own policy when empty).
func (s *Service) Trigger(ctx context.Context, id string, overlap Overlap) error {
	policy, err := overlapPolicy(overlap)
	if err != nil {
		return err
	}
	return s.patch(ctx, "trigger", id, &schedulepb.SchedulePatch{
		TriggerImmediately: &schedulepb.TriggerImmediatelyRequest{OverlapPolicy: policy},
	})
}

// Backfill has the schedule id take the actions of its spec's times from start to end, under
// overlap (its own policy when empty).
func (s *Service) Backfill(ctx context.Context, id string, start, end time.Time, overlap Overlap) error {
	policy, err := overlapPolicy(overlap)
	if err != nil {
		return err
	}
	return s.patch(ctx, "backfill", id, &schedulepb.SchedulePatch{
		BackfillRequest: []*schedulepb.BackfillRequest{{
			StartTime: timestamppb.New(start), EndTime: timestamppb.New(end), OverlapPolicy: policy,
		}},
	})
}

func (s *Service) patch(ctx context.Context, op, id string, patch *schedulepb.SchedulePatch) error {
	requestID, err := newRevision()
	if err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err = s.client.PatchSchedule(ctx, &workflowservice.PatchScheduleRequest{
		Namespace: s.opts.Namespace, ScheduleId: id, Patch: patch, Identity: s.opts.Identity, RequestId: string(requestID),
	})
	return scheduleError(op, id, err)
}

// Delete deletes the schedule id; the runs it started are left alone.
func (s *Service) Delete(ctx context.Context, id string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.client.DeleteSchedule(ctx, &workflowservice.DeleteScheduleRequest{
		Namespace: s.opts.Namespace, ScheduleId: id, Identity: s.opts.Identity,
	})
	return scheduleError("delete", id, err)
}

// List answers one page of schedules and the token of the next ("" after the last).
func (s *Service) List(ctx context.Context, pageSize int32, pageToken string) ([]Summary, string, error) {
	token, err := pagetoken.Decode(pageTokenScope, pageToken)
	if err != nil {
		return nil, "", ErrBadPageToken
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	resp, err := s.client.ListSchedules(ctx, &workflowservice.ListSchedulesRequest{
		Namespace: s.opts.Namespace, MaximumPageSize: pageSize, NextPageToken: token,
	})
	if err != nil {
		if len(token) > 0 && serviceerror.ToStatus(err).Code() == codes.InvalidArgument {
			return nil, "", ErrBadPageToken
		}
		return nil, "", fmt.Errorf("list schedules: %w", err)
	}
	list := make([]Summary, 0, len(resp.GetSchedules()))
	for _, e := range resp.GetSchedules() {
		info := e.GetInfo()
		list = append(list, Summary{
			ID: e.GetScheduleId(), WorkflowType: info.GetWorkflowType().GetName(), Note: info.GetNotes(),
			Paused: info.GetPaused(), Recent: actionResults(info.GetRecentActions()), Next: times(info.GetFutureActionTimes()),
		})
	}
	return list, pagetoken.Encode(pageTokenScope, resp.GetNextPageToken()), nil
}

// pageTokenScope marks the page tokens of the schedule list (see pagetoken): a token of another
// listing, or one a client made up, is refused before it reaches Temporal, which answers some with
// an error of its own and others with an empty page.
const pageTokenScope = "schedules"

// scheduleError names the schedule of a failed call, and tells a missing schedule apart.
func scheduleError(op, id string, err error) error {
	if err == nil {
		return nil
	}
	if serviceerror.ToStatus(err).Code() == codes.NotFound {
		return fmt.Errorf("%s schedule %q: %w (%w)", op, id, ErrNotFound, err)
	}
	return fmt.Errorf("%s schedule %q: %w", op, id, err)
}

// stamp writes a new revision into a schedule about to be written (see revisionHeader), and makes
// the write's request id, by which Temporal knows a retried call.
func stamp(proto *schedulepb.Schedule) (revision, requestID []byte, err error) {
	if revision, err = newRevision(); err != nil {
		return nil, nil, err
	}
	setRevision(proto, revision)
	if requestID, err = newRevision(); err != nil {
		return nil, nil, err
	}
	return revision, requestID, nil
}

func newRevision() ([]byte, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make a schedule revision: %w", err)
	}
	return []byte(base64.RawURLEncoding.EncodeToString(b)), nil
}

func setRevision(s *schedulepb.Schedule, revision []byte) {
	start := s.GetAction().GetStartWorkflow()
	if start == nil {
		return
	}
	if start.Header == nil {
		start.Header = &commonpb.Header{}
	}
	if start.Header.Fields == nil {
		start.Header.Fields = map[string]*commonpb.Payload{}
	}
	start.Header.Fields[revisionHeader] = &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: revision,
	}
}

// version is what names one version of a schedule, its ETag: Temporal's conflict token, which
// changes with every change but starts again at 1 for a schedule created anew under the same id,
// and the random revision of the gateway's last create or update, which tells such schedules
// apart (a tag of a deleted schedule must not match its successor).
func version(token, revision []byte) []byte {
	return append(append([]byte(nil), token...), revision...)
}

func revisionOf(s *schedulepb.Schedule) []byte {
	return s.GetAction().GetStartWorkflow().GetHeader().GetFields()[revisionHeader].GetData()
}

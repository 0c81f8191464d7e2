package schedules

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
)

// fakeClient keeps one schedule as Temporal 1.29 does: its conflict token counts its changes,
// and an update with a stale token is answered with success and dropped.
type fakeClient struct {
	schedule *schedulepb.Schedule
	token    uint64
	// between runs inside UpdateSchedule before the update is applied: another writer's change.
	between  func(*fakeClient)
	updates  int
	describe int
	err      error
	// busy is how many reads Temporal refuses as BUSY_WORKFLOW before it answers.
	busy int
}

func token(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// current is the version (ETag) of the schedule the fake holds.
func (f *fakeClient) current() []byte { return version(token(f.token), revisionOf(f.schedule)) }

func (f *fakeClient) CreateSchedule(_ context.Context, req *workflowservice.CreateScheduleRequest) (*workflowservice.CreateScheduleResponse, error) {
	if f.schedule != nil {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("schedule exists", "", "")
	}
	f.schedule, f.token = proto.Clone(req.Schedule).(*schedulepb.Schedule), 1
	return &workflowservice.CreateScheduleResponse{ConflictToken: token(1)}, nil
}

func (f *fakeClient) DescribeSchedule(context.Context, *workflowservice.DescribeScheduleRequest) (*workflowservice.DescribeScheduleResponse, error) {
	f.describe++
	if f.err != nil {
		return nil, f.err
	}
	if f.busy > 0 {
		f.busy--
		return nil, serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW, "consistent query buffer is full")
	}
	if f.schedule == nil {
		return nil, serviceerror.NewNotFound("schedule not found")
	}
	return &workflowservice.DescribeScheduleResponse{Schedule: proto.Clone(f.schedule).(*schedulepb.Schedule),
		Info: &schedulepb.ScheduleInfo{}, ConflictToken: token(f.token)}, nil
}

func (f *fakeClient) UpdateSchedule(_ context.Context, req *workflowservice.UpdateScheduleRequest) (*workflowservice.UpdateScheduleResponse, error) {
	f.updates++
	if f.between != nil {
		f.between(f)
	}
	if len(req.ConflictToken) == 8 && binary.BigEndian.Uint64(req.ConflictToken) != f.token {
		return &workflowservice.UpdateScheduleResponse{}, nil
	}
	f.schedule, f.token = proto.Clone(req.Schedule).(*schedulepb.Schedule), f.token+1
	return &workflowservice.UpdateScheduleResponse{}, nil
}

func (f *fakeClient) PatchSchedule(_ context.Context, req *workflowservice.PatchScheduleRequest) (*workflowservice.PatchScheduleResponse, error) {
	if f.schedule == nil {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	if req.Patch.Pause != "" {
		f.schedule.State = &schedulepb.ScheduleState{Paused: true, Notes: req.Patch.Pause}
		f.token++
	}
	return &workflowservice.PatchScheduleResponse{}, nil
}

func (f *fakeClient) DeleteSchedule(context.Context, *workflowservice.DeleteScheduleRequest) (*workflowservice.DeleteScheduleResponse, error) {
	if f.schedule == nil {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	f.schedule = nil
	return &workflowservice.DeleteScheduleResponse{}, nil
}

func (f *fakeClient) ListSchedules(context.Context, *workflowservice.ListSchedulesRequest) (*workflowservice.ListSchedulesResponse, error) {
	return &workflowservice.ListSchedulesResponse{}, nil
}

func greeting(name string) Schedule {
	return Schedule{
		ID:     "nightly",
		Spec:   Spec{Intervals: []Interval{{Every: time.Hour, Offset: 5 * time.Minute}}, TimeZone: "Europe/Berlin"},
		Action: Action{WorkflowType: "Greeting", WorkflowID: "greet", Input: json.RawMessage(`{"name":"` + name + `"}`)},
	}
}

func newService(f *fakeClient) *Service {
	return New(f, Options{TaskQueue: "http-gateway", CallTimeout: time.Second})
}

func TestCreateAnswersTheFirstVersionAndRefusesADuplicate(t *testing.T) {
	f := &fakeClient{}
	s := newService(f)
	created, err := s.Create(t.Context(), greeting("Ada"))
	require.NoError(t, err)
	assert.Equal(t, token(1), created.Token[:8], "the conflict token, then the revision")
	assert.Equal(t, "http-gateway", created.Action.TaskQueue, "an action without a queue starts on the deployment's own")
	assert.JSONEq(t, `{"name":"Ada"}`, string(created.Action.Input))
	assert.Equal(t, []Interval{{Every: time.Hour, Offset: 5 * time.Minute}}, created.Spec.Intervals)

	_, err = s.Create(t.Context(), greeting("Bob"))
	var exists *ExistsError
	require.ErrorAs(t, err, &exists)
	assert.Equal(t, "nightly", exists.ID)
}

func TestUpdate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		match   func(current []byte) [][]byte
		between func(*fakeClient)
		want    error
		updates int
	}{
		{"the version read", func(c []byte) [][]byte { return [][]byte{c} }, nil, nil, 1},
		{"any version", func([]byte) [][]byte { return nil }, nil, nil, 1},
		{"one of several", func(c []byte) [][]byte { return [][]byte{token(99), c} }, nil, nil, 1},
		// A stale If-Match never reaches Temporal.
		{"a stale version", func([]byte) [][]byte { return [][]byte{token(99)} }, nil, ErrChanged, 0},
		{"no version a tag names", func([]byte) [][]byte { return [][]byte{} }, nil, ErrChanged, 0},
		// Another change lands between the read and the update: Temporal drops this one without
		// an error, and the read afterwards finds out.
		{"a change in between", func([]byte) [][]byte { return nil }, func(f *fakeClient) {
			f.schedule.Spec = &schedulepb.ScheduleSpec{CronString: []string{"@daily"}}
			f.token++
		}, ErrChanged, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeClient{}
			s := newService(f)
			_, err := s.Create(t.Context(), greeting("Ada"))
			require.NoError(t, err)
			f.between = tc.between

			updated, err := s.Update(t.Context(), "nightly", tc.match(f.current()), greeting("Grace"))
			assert.Equal(t, tc.updates, f.updates)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, `{"name":"Grace"}`, string(updated.Action.Input))
			assert.Equal(t, token(2), updated.Token[:8])
			assert.Equal(t, f.current(), updated.Token)
		})
	}
}

// Temporal's conflict token starts again at 1 for a schedule created anew under the same id: the
// version of the deleted one must not match its successor.
func TestATagOfADeletedScheduleDoesNotMatchItsSuccessor(t *testing.T) {
	f := &fakeClient{}
	s := newService(f)
	old, err := s.Create(t.Context(), greeting("Ada"))
	require.NoError(t, err)
	f.schedule = nil
	_, err = s.Create(t.Context(), greeting("Bob"))
	require.NoError(t, err)
	_, err = s.Update(t.Context(), "nightly", [][]byte{old.Token}, greeting("Grace"))
	require.ErrorIs(t, err, ErrChanged)
	assert.Zero(t, f.updates)
}

func TestUpdateKeepsTheStateUnlessGivenOne(t *testing.T) {
	f := &fakeClient{}
	s := newService(f)
	_, err := s.Create(t.Context(), greeting("Ada"))
	require.NoError(t, err)
	require.NoError(t, s.Pause(t.Context(), "nightly", ""))

	updated, err := s.Update(t.Context(), "nightly", nil, greeting("Grace"))
	require.NoError(t, err)
	assert.Equal(t, &State{Paused: true, Note: "paused"}, updated.State, "an empty pause note is a note still")

	resume := greeting("Grace")
	resume.State = &State{Note: "back"}
	updated, err = s.Update(t.Context(), "nightly", nil, resume)
	require.NoError(t, err)
	assert.Equal(t, &State{Note: "back"}, updated.State)
}

func TestAMissingScheduleIsNotFound(t *testing.T) {
	s := newService(&fakeClient{})
	_, err := s.Get(t.Context(), "nightly")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.Update(t.Context(), "nightly", nil, greeting("Ada"))
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, s.Pause(t.Context(), "nightly", "x"), ErrNotFound)
	assert.ErrorIs(t, s.Delete(t.Context(), "nightly"), ErrNotFound)

	other := errors.New("unreachable")
	_, err = newService(&fakeClient{err: other}).Get(t.Context(), "nightly")
	assert.ErrorIs(t, err, other)
	assert.NotErrorIs(t, err, ErrNotFound)
}

func TestTemporalsCalendarsReadBackAsCalendars(t *testing.T) {
	spec := specFromProto(&schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{
		Second:     []*schedulepb.Range{{Start: 0, End: 0, Step: 1}},
		Minute:     []*schedulepb.Range{{Start: 0, End: 59, Step: 15}},
		Hour:       []*schedulepb.Range{{Start: 9, End: 9, Step: 1}, {Start: 13, End: 17, Step: 1}},
		DayOfMonth: []*schedulepb.Range{{Start: 1, End: 31, Step: 1}},
		Month:      []*schedulepb.Range{{Start: 1, End: 12, Step: 1}},
		DayOfWeek:  []*schedulepb.Range{{Start: 1, End: 5, Step: 1}},
		Comment:    "office hours",
	}}})
	assert.Equal(t, []Calendar{{
		Second: "0", Minute: "0-59/15", Hour: "9,13-17", DayOfMonth: "1-31", Month: "1-12", Year: "*", DayOfWeek: "1-5", Comment: "office hours",
	}}, spec.Calendars)
}

func TestAnUnknownOverlapPolicyIsRefused(t *testing.T) {
	f := &fakeClient{}
	s := newService(f)
	sch := greeting("Ada")
	sch.Policies.Overlap = "SOMETIMES"
	_, err := s.Create(t.Context(), sch)
	require.Error(t, err)
	assert.Nil(t, f.schedule, "nothing reached Temporal")
}

func TestAReadWaitsOutABusyScheduler(t *testing.T) {
	f := &fakeClient{}
	s := newService(f)
	_, err := s.Create(t.Context(), greeting("Ada"))
	require.NoError(t, err)
	f.busy = 3
	_, err = s.Get(t.Context(), "nightly")
	require.NoError(t, err)
	assert.Equal(t, 4, f.describe)
}

func TestAnUpdateWhoseReadBackFailsSaysSo(t *testing.T) {
	f := &fakeClient{}
	s := newService(f)
	_, err := s.Create(t.Context(), greeting("Ada"))
	require.NoError(t, err)
	f.between = func(f *fakeClient) { f.err = serviceerror.NewUnavailable("gone") }
	_, err = s.Update(t.Context(), "nightly", nil, greeting("Grace"))
	require.ErrorIs(t, err, ErrUnconfirmed)
	assert.Equal(t, 1, f.updates)
}

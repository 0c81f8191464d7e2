package schedules

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/temporalhttp/gateway/internal/executions"
)

// Schedule is a schedule as the gateway knows it.
type Schedule struct {
	ID       string
	Spec     Spec
	Action   Action
	Policies Policies
	// State nil (in an update) keeps the schedule's state as it is.
	State *State
	// Info is what a read tells of what the schedule did and will do; nil otherwise.
	Info *Info
	// Token is the schedule's version, which changes with every change: its conflict token and
	// the revision of the gateway's last write of it (see version).
	Token []byte
}

// Spec is when a schedule acts.
type Spec struct {
	Calendars      []Calendar
	Intervals      []Interval
	Crons          []string
	TimeZone       string
	StartAt, EndAt *time.Time
	Jitter         time.Duration
}

// Calendar is Temporal's calendar spec: each field a list of values and ranges, empty for its
// default.
type Calendar struct {
	Second, Minute, Hour, DayOfMonth, Month, Year, DayOfWeek, Comment string
}

// Interval acts every Every, shifted by Offset.
type Interval struct {
	Every, Offset time.Duration
}

// Action is the workflow a schedule starts.
type Action struct {
	WorkflowType, WorkflowID, TaskQueue string
	// Input is the workflow's one argument as JSON; nil for none.
	Input                        json.RawMessage
	ExecutionTimeout, RunTimeout time.Duration
	Memo                         map[string]json.RawMessage
}

// Overlap is an overlap policy by Temporal's name without its prefix; empty is the default.
type Overlap string

// Policies are a schedule's policies; zero values are Temporal's defaults.
type Policies struct {
	Overlap        Overlap
	CatchupWindow  time.Duration
	PauseOnFailure bool
}

// State is whether a schedule is paused, and why.
type State struct {
	Paused bool
	Note   string
}

// Info is what a schedule did and will do.
type Info struct {
	ActionCount, MissedCatchupWindow, OverlapSkipped int64
	Running                                          []Run
	Recent                                           []ActionResult
	Next                                             []time.Time
	CreateTime, UpdateTime                           *time.Time
}

// Run names a run a schedule started.
type Run struct{ WorkflowID, RunID string }

// ActionResult is one action a schedule took.
type ActionResult struct {
	ScheduleTime, ActualTime time.Time
	Run
}

// Summary is a schedule as a list shows it.
type Summary struct {
	ID, WorkflowType, Note string
	Paused                 bool
	Recent                 []ActionResult
	Next                   []time.Time
}

// overlapPolicies maps the contract's names to Temporal's.
var overlapPolicies = map[Overlap]enumspb.ScheduleOverlapPolicy{
	"":                enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED,
	"SKIP":            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	"BUFFER_ONE":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	"BUFFER_ALL":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	"CANCEL_OTHER":    enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
	"TERMINATE_OTHER": enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER,
	"ALLOW_ALL":       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
}

func overlapPolicy(o Overlap) (enumspb.ScheduleOverlapPolicy, error) {
	p, ok := overlapPolicies[o]
	if !ok {
		return 0, fmt.Errorf("unknown overlap policy %q", o)
	}
	return p, nil
}

func overlapName(p enumspb.ScheduleOverlapPolicy) Overlap {
	for name, v := range overlapPolicies {
		if v == p {
			return name
		}
	}
	return ""
}

// toProto is the schedule as Temporal takes it; taskQueue is the queue of an action that names none.
func (s Schedule) toProto(taskQueue string) (*schedulepb.Schedule, error) {
	overlap, err := overlapPolicy(s.Policies.Overlap)
	if err != nil {
		return nil, err
	}
	action, err := s.Action.toProto(taskQueue)
	if err != nil {
		return nil, err
	}
	out := &schedulepb.Schedule{
		Spec:   s.Spec.toProto(),
		Action: action,
		Policies: &schedulepb.SchedulePolicies{
			OverlapPolicy:  overlap,
			PauseOnFailure: s.Policies.PauseOnFailure,
		},
	}
	if s.Policies.CatchupWindow > 0 {
		out.Policies.CatchupWindow = durationpb.New(s.Policies.CatchupWindow)
	}
	if s.State != nil {
		out.State = &schedulepb.ScheduleState{Paused: s.State.Paused, Notes: s.State.Note}
	}
	return out, nil
}

func (s Spec) toProto() *schedulepb.ScheduleSpec {
	out := &schedulepb.ScheduleSpec{CronString: s.Crons, TimezoneName: s.TimeZone}
	for _, c := range s.Calendars {
		out.Calendar = append(out.Calendar, &schedulepb.CalendarSpec{
			Second: c.Second, Minute: c.Minute, Hour: c.Hour, DayOfMonth: c.DayOfMonth,
			Month: c.Month, Year: c.Year, DayOfWeek: c.DayOfWeek, Comment: c.Comment,
		})
	}
	for _, i := range s.Intervals {
		iv := &schedulepb.IntervalSpec{Interval: durationpb.New(i.Every)}
		if i.Offset > 0 {
			iv.Phase = durationpb.New(i.Offset)
		}
		out.Interval = append(out.Interval, iv)
	}
	if s.StartAt != nil {
		out.StartTime = timestamppb.New(*s.StartAt)
	}
	if s.EndAt != nil {
		out.EndTime = timestamppb.New(*s.EndAt)
	}
	if s.Jitter > 0 {
		out.Jitter = durationpb.New(s.Jitter)
	}
	return out
}

// dataConverter encodes an action's input and memo as the gateway's starts do: JSON as sent.
var dataConverter = converter.GetDefaultDataConverter()

func (a Action) toProto(taskQueue string) (*schedulepb.ScheduleAction, error) {
	queue := a.TaskQueue
	if queue == "" {
		queue = taskQueue
	}
	start := &workflowpb.NewWorkflowExecutionInfo{
		WorkflowId:   a.WorkflowID,
		WorkflowType: &commonpb.WorkflowType{Name: a.WorkflowType},
		TaskQueue:    &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
	}
	if len(a.Input) > 0 && strings.TrimSpace(string(a.Input)) != "null" {
		input, err := dataConverter.ToPayloads(a.Input)
		if err != nil {
			return nil, fmt.Errorf("encode the action's input: %w", err)
		}
		start.Input = input
	}
	if a.ExecutionTimeout > 0 {
		start.WorkflowExecutionTimeout = durationpb.New(a.ExecutionTimeout)
	}
	if a.RunTimeout > 0 {
		start.WorkflowRunTimeout = durationpb.New(a.RunTimeout)
	}
	if len(a.Memo) > 0 {
		start.Memo = &commonpb.Memo{Fields: make(map[string]*commonpb.Payload, len(a.Memo))}
		for k, v := range a.Memo {
			p, err := dataConverter.ToPayload(v)
			if err != nil {
				return nil, fmt.Errorf("encode the action's memo %q: %w", k, err)
			}
			start.Memo.Fields[k] = p
		}
	}
	return &schedulepb.ScheduleAction{Action: &schedulepb.ScheduleAction_StartWorkflow{StartWorkflow: start}}, nil
}

// fromProto reads a schedule as Temporal describes it.
func fromProto(id string, s *schedulepb.Schedule, info *schedulepb.ScheduleInfo, token []byte) Schedule {
	out := Schedule{ID: id, Spec: specFromProto(s.GetSpec()), Token: version(token, revisionOf(s))}
	if start := s.GetAction().GetStartWorkflow(); start != nil {
		out.Action = Action{
			WorkflowType:     start.GetWorkflowType().GetName(),
			WorkflowID:       start.GetWorkflowId(),
			TaskQueue:        start.GetTaskQueue().GetName(),
			ExecutionTimeout: start.GetWorkflowExecutionTimeout().AsDuration(),
			RunTimeout:       start.GetWorkflowRunTimeout().AsDuration(),
		}
		if p := start.GetInput().GetPayloads(); len(p) > 0 {
			out.Action.Input = executions.PayloadJSON(p[0])
		}
		if fields := start.GetMemo().GetFields(); len(fields) > 0 {
			out.Action.Memo = make(map[string]json.RawMessage, len(fields))
			for k, v := range fields {
				out.Action.Memo[k] = executions.PayloadJSON(v)
			}
		}
	}
	pol := s.GetPolicies()
	out.Policies = Policies{Overlap: overlapName(pol.GetOverlapPolicy()), PauseOnFailure: pol.GetPauseOnFailure()}
	if pol.GetCatchupWindow() != nil {
		out.Policies.CatchupWindow = pol.GetCatchupWindow().AsDuration()
	}
	out.State = &State{Paused: s.GetState().GetPaused(), Note: s.GetState().GetNotes()}
	if info != nil {
		i := &Info{
			ActionCount:         info.GetActionCount(),
			MissedCatchupWindow: info.GetMissedCatchupWindow(),
			OverlapSkipped:      info.GetOverlapSkipped(),
			Running:             []Run{},
			Recent:              actionResults(info.GetRecentActions()),
			Next:                times(info.GetFutureActionTimes()),
			CreateTime:          timeOf(info.GetCreateTime()),
			UpdateTime:          timeOf(info.GetUpdateTime()),
		}
		for _, r := range info.GetRunningWorkflows() {
			i.Running = append(i.Running, Run{WorkflowID: r.GetWorkflowId(), RunID: r.GetRunId()})
		}
		out.Info = i
	}
	return out
}

func specFromProto(s *schedulepb.ScheduleSpec) Spec {
	out := Spec{Crons: s.GetCronString(), TimeZone: s.GetTimezoneName(), StartAt: timeOf(s.GetStartTime()), EndAt: timeOf(s.GetEndTime())}
	if s.GetJitter() != nil {
		out.Jitter = s.GetJitter().AsDuration()
	}
	for _, c := range s.GetCalendar() {
		out.Calendars = append(out.Calendars, Calendar{
			Second: c.GetSecond(), Minute: c.GetMinute(), Hour: c.GetHour(), DayOfMonth: c.GetDayOfMonth(),
			Month: c.GetMonth(), Year: c.GetYear(), DayOfWeek: c.GetDayOfWeek(), Comment: c.GetComment(),
		})
	}
	// Temporal keeps calendars and cron strings in this form: each read back as the calendar it is.
	for _, c := range s.GetStructuredCalendar() {
		out.Calendars = append(out.Calendars, Calendar{
			Second: ranges(c.GetSecond()), Minute: ranges(c.GetMinute()), Hour: ranges(c.GetHour()),
			DayOfMonth: ranges(c.GetDayOfMonth()), Month: ranges(c.GetMonth()), Year: ranges(c.GetYear()),
			DayOfWeek: ranges(c.GetDayOfWeek()), Comment: c.GetComment(),
		})
	}
	for _, i := range s.GetInterval() {
		out.Intervals = append(out.Intervals, Interval{Every: i.GetInterval().AsDuration(), Offset: i.GetPhase().AsDuration()})
	}
	return out
}

// ranges writes a structured calendar's field in the calendar spec's words: "9", "1-5",
// "0-59/15", joined by commas; no range matches every value ("*").
func ranges(rs []*schedulepb.Range) string {
	if len(rs) == 0 {
		return "*"
	}
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		s := strconv.Itoa(int(r.GetStart()))
		if r.GetEnd() > r.GetStart() {
			s += "-" + strconv.Itoa(int(r.GetEnd()))
		}
		if r.GetStep() > 1 {
			s += "/" + strconv.Itoa(int(r.GetStep()))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func actionResults(list []*schedulepb.ScheduleActionResult) []ActionResult {
	out := make([]ActionResult, 0, len(list))
	for _, a := range list {
		out = append(out, ActionResult{
			ScheduleTime: a.GetScheduleTime().AsTime(), ActualTime: a.GetActualTime().AsTime(),
			Run: Run{WorkflowID: a.GetStartWorkflowResult().GetWorkflowId(), RunID: a.GetStartWorkflowResult().GetRunId()},
		})
	}
	return out
}

func times(list []*timestamppb.Timestamp) []time.Time {
	out := make([]time.Time, 0, len(list))
	for _, t := range list {
		out = append(out, t.AsTime())
	}
	return out
}

func timeOf(t *timestamppb.Timestamp) *time.Time {
	if t == nil {
		return nil
	}
	v := t.AsTime()
	return &v
}

package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	// The IANA time zone database, in every binary that serves schedules: a schedule's time zone
	// is checked against it wherever the gateway runs, a distroless image or cmd/dev alike.
	_ "time/tzdata"

	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"

	"github.com/temporalhttp/gateway/internal/executions"
	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/schedules"
)

// CreateSchedule creates a schedule whose action is checked as a start is.
func (s *Server) CreateSchedule(ctx context.Context, req gen.CreateScheduleRequestObject) (gen.CreateScheduleResponseObject, error) {
	b := req.Body
	if len(b.ScheduleId) > maxScheduleIDBytes {
		return nil, validationProblem(gen.FieldError{In: gen.FieldErrorInBody, Field: "scheduleId",
			Message: fmt.Sprintf("must be at most %d bytes in UTF-8", maxScheduleIDBytes)})
	}
	sch, err := s.scheduleOf(ctx, b.Spec, b.Action, b.Policies, b.State)
	if err != nil {
		return nil, err
	}
	sch.ID = b.ScheduleId
	created, err := s.schedules.Create(ctx, sch)
	if err != nil {
		return nil, scheduleProblem(b.ScheduleId, err)
	}
	return gen.CreateSchedule201JSONResponse{
		Body:    scheduleBody(created),
		Headers: gen.CreateSchedule201ResponseHeaders{Location: scheduleLocation(created.ID), ETag: scheduleETag(created.Token)},
	}, nil
}

// GetSchedule reads a schedule, with its version as ETag.
func (s *Server) GetSchedule(ctx context.Context, req gen.GetScheduleRequestObject) (gen.GetScheduleResponseObject, error) {
	sch, err := s.schedules.Get(ctx, req.ScheduleId)
	if err != nil {
		return nil, scheduleProblem(req.ScheduleId, err)
	}
	return gen.GetSchedule200JSONResponse{Body: scheduleBody(sch), Headers: gen.GetSchedule200ResponseHeaders{ETag: scheduleETag(sch.Token)}}, nil
}

// UpdateSchedule replaces a schedule's spec, action and policies, if it is the version If-Match names.
func (s *Server) UpdateSchedule(ctx context.Context, req gen.UpdateScheduleRequestObject) (gen.UpdateScheduleResponseObject, error) {
	if req.Params.IfMatch == nil {
		return nil, newProblem(http.StatusPreconditionRequired, problemIfMatchRequired, "If-Match required",
			"An update replaces the schedule; send the ETag of the version it replaces in If-Match, or * to replace whatever is there.")
	}
	match := ifMatchTokens(*req.Params.IfMatch)
	b := req.Body
	sch, err := s.scheduleOf(ctx, b.Spec, b.Action, b.Policies, b.State)
	if err != nil {
		return nil, err
	}
	updated, err := s.schedules.Update(ctx, req.ScheduleId, match, sch)
	if err != nil {
		return nil, scheduleProblem(req.ScheduleId, err)
	}
	return gen.UpdateSchedule200JSONResponse{Body: scheduleBody(updated), Headers: gen.UpdateSchedule200ResponseHeaders{ETag: scheduleETag(updated.Token)}}, nil
}

// DeleteSchedule deletes a schedule, leaving the runs it started alone.
func (s *Server) DeleteSchedule(ctx context.Context, req gen.DeleteScheduleRequestObject) (gen.DeleteScheduleResponseObject, error) {
	if err := s.schedules.Delete(ctx, req.ScheduleId); err != nil {
		return nil, scheduleProblem(req.ScheduleId, err)
	}
	return gen.DeleteSchedule204Response{}, nil
}

// PauseSchedule pauses a schedule.
func (s *Server) PauseSchedule(ctx context.Context, req gen.PauseScheduleRequestObject) (gen.PauseScheduleResponseObject, error) {
	if err := checkNote(req.Body.Note, "note"); err != nil {
		return nil, err
	}
	if err := s.schedules.Pause(ctx, req.ScheduleId, deref(req.Body.Note)); err != nil {
		return nil, scheduleProblem(req.ScheduleId, err)
	}
	return gen.PauseSchedule204Response{}, nil
}

// UnpauseSchedule unpauses a schedule.
func (s *Server) UnpauseSchedule(ctx context.Context, req gen.UnpauseScheduleRequestObject) (gen.UnpauseScheduleResponseObject, error) {
	if err := checkNote(req.Body.Note, "note"); err != nil {
		return nil, err
	}
	if err := s.schedules.Unpause(ctx, req.ScheduleId, deref(req.Body.Note)); err != nil {
		return nil, scheduleProblem(req.ScheduleId, err)
	}
	return gen.UnpauseSchedule204Response{}, nil
}

// TriggerSchedule has a schedule take its action now.
func (s *Server) TriggerSchedule(ctx context.Context, req gen.TriggerScheduleRequestObject) (gen.TriggerScheduleResponseObject, error) {
	if err := s.schedules.Trigger(ctx, req.ScheduleId, schedules.Overlap(deref(req.Body.Overlap))); err != nil {
		return nil, scheduleProblem(req.ScheduleId, err)
	}
	return gen.TriggerSchedule202Response{}, nil
}

// BackfillSchedule has a schedule take the actions of a past time range.
func (s *Server) BackfillSchedule(ctx context.Context, req gen.BackfillScheduleRequestObject) (gen.BackfillScheduleResponseObject, error) {
	b := req.Body
	switch {
	case b.EndAt.Before(b.StartAt):
		return nil, validationProblem(gen.FieldError{In: gen.FieldErrorInBody, Field: "endAt", Message: "must not be before startAt"})
	case b.EndAt.After(time.Now().Add(backfillClockSkew)):
		// Temporal would start the future's runs at once, which is a trigger, not a backfill.
		return nil, validationProblem(gen.FieldError{In: gen.FieldErrorInBody, Field: "endAt",
			Message: "must not be in the future: a backfill takes the actions of a past range"})
	}
	if err := s.schedules.Backfill(ctx, req.ScheduleId, b.StartAt, b.EndAt, schedules.Overlap(deref(b.Overlap))); err != nil {
		return nil, scheduleProblem(req.ScheduleId, err)
	}
	return gen.BackfillSchedule202Response{}, nil
}

// Temporal's limits, in bytes: a schedule is a workflow whose id is the schedule's after a 23-byte
// prefix, an action's run id is its workflowId with the 21-byte fire time appended, both within
// 1000 bytes; a note is at most 1000 bytes. The contract's maxLength counts characters.
const (
	maxScheduleIDBytes = 977
	maxActionIDBytes   = 979
	maxNoteBytes       = 1000
)

func checkNote(note *string, field string) error {
	if note != nil && len(*note) > maxNoteBytes {
		return validationProblem(gen.FieldError{In: gen.FieldErrorInBody, Field: field,
			Message: fmt.Sprintf("must be at most %d bytes in UTF-8", maxNoteBytes)})
	}
	return nil
}

// backfillClockSkew is how far in the future a backfill's end may be, for clocks that differ.
const backfillClockSkew = time.Minute

// ListSchedules answers a page of schedules.
func (s *Server) ListSchedules(ctx context.Context, req gen.ListSchedulesRequestObject) (gen.ListSchedulesResponseObject, error) {
	list, next, err := s.schedules.List(ctx, pageSize(req.Params.PageSize), deref(req.Params.PageToken))
	if errors.Is(err, schedules.ErrBadPageToken) {
		return nil, validationProblem(gen.FieldError{In: gen.FieldErrorInQuery, Field: "pageToken",
			Message: "is not a token that this listing handed out; pass nextPageToken back as it is"})
	}
	if err != nil {
		return nil, err
	}
	page := gen.ListSchedules200JSONResponse{Schedules: make([]gen.ScheduleSummary, len(list))}
	for i, sum := range list {
		page.Schedules[i] = gen.ScheduleSummary{
			ScheduleId: sum.ID, Paused: sum.Paused, RecentActions: actionResultBodies(sum.Recent), NextActionTimes: utcTimes(sum.Next),
			WorkflowType: optional(sum.WorkflowType), Note: optional(sum.Note),
		}
	}
	if next != "" {
		page.NextPageToken = &next
	}
	return page, nil
}

// scheduleOf decodes a schedule's definition, once, holding its action to what a start on the
// same queue is held to: a hosted type, an input that fits its schema, an allowed task queue.
func (s *Server) scheduleOf(ctx context.Context, spec gen.ScheduleSpec, action gen.ScheduleAction, policies *gen.SchedulePolicies, state *gen.ScheduleState) (schedules.Schedule, error) {
	var fields []gen.FieldError
	invalid := func(field, msg string) {
		fields = append(fields, gen.FieldError{In: gen.FieldErrorInBody, Field: field, Message: msg})
	}
	duration := func(field string, v *string, positive bool) time.Duration {
		if v == nil {
			return 0
		}
		d, err := time.ParseDuration(*v)
		if err != nil || d < 0 || (positive && d == 0) {
			invalid(field, "must be a positive duration such as 90s or 1h30m")
		}
		return d
	}
	sch := schedules.Schedule{Spec: schedules.Spec{
		Crons: deref(spec.CronStrings), TimeZone: deref(spec.TimeZone), StartAt: spec.StartAt, EndAt: spec.EndAt,
		Jitter: duration("spec.jitter", spec.Jitter, false),
	}}
	for i, c := range sch.Spec.Crons {
		if t := strings.TrimSpace(c); strings.HasPrefix(t, "CRON_TZ=") || strings.HasPrefix(t, "TZ=") {
			// One time zone per schedule, checked as such (422 when unknown).
			invalid(fmt.Sprintf("spec.cronStrings[%d]", i), "must not name a time zone: spec.timeZone does")
		}
	}
	for _, c := range deref(spec.Calendars) {
		sch.Spec.Calendars = append(sch.Spec.Calendars, schedules.Calendar{
			Second: deref(c.Second), Minute: deref(c.Minute), Hour: deref(c.Hour), DayOfMonth: deref(c.DayOfMonth),
			Month: deref(c.Month), Year: deref(c.Year), DayOfWeek: deref(c.DayOfWeek), Comment: deref(c.Comment),
		})
	}
	for i, iv := range deref(spec.Intervals) {
		field := fmt.Sprintf("spec.intervals[%d]", i)
		every := duration(field+".every", &iv.Every, true)
		offset := duration(field+".offset", iv.Offset, false)
		// Temporal counts intervals in whole seconds: 1500ms would fire every second, and an
		// offset of 500ms would be none.
		for _, d := range []struct {
			name  string
			value time.Duration
		}{{".every", every}, {".offset", offset}} {
			if d.value%time.Second != 0 {
				invalid(field+d.name, "must be whole seconds, such as 90s or 1h: Temporal counts intervals in seconds")
			}
		}
		if every > 0 && offset >= every {
			invalid(field+".offset", "must be shorter than every")
		}
		sch.Spec.Intervals = append(sch.Spec.Intervals, schedules.Interval{Every: every, Offset: offset})
	}
	if spec.StartAt != nil && spec.EndAt != nil && !spec.EndAt.After(*spec.StartAt) {
		invalid("spec.endAt", "must be after spec.startAt")
	}
	sch.Action = schedules.Action{
		WorkflowType: action.WorkflowType, WorkflowID: action.WorkflowId, TaskQueue: deref(action.TaskQueue),
		ExecutionTimeout: duration("action.executionTimeout", action.ExecutionTimeout, true),
		RunTimeout:       duration("action.runTimeout", action.RunTimeout, true),
	}
	if action.Input != nil {
		sch.Action.Input = *action.Input
	}
	if len(action.WorkflowId) > maxActionIDBytes {
		invalid("action.workflowId", fmt.Sprintf("must be at most %d bytes in UTF-8: Temporal appends the fire time", maxActionIDBytes))
	}
	if state != nil && state.Note != nil && len(*state.Note) > maxNoteBytes {
		invalid("state.note", fmt.Sprintf("must be at most %d bytes in UTF-8", maxNoteBytes))
	}
	if strings.HasPrefix(action.WorkflowId, executions.KeyIDPrefix) {
		invalid("action.workflowId", "must not begin with "+executions.KeyIDPrefix+", which names the executions of Idempotency-Keys")
	}
	if action.Memo != nil {
		for k := range *action.Memo {
			if k == executions.RecordField {
				invalid("action.memo."+k, "is reserved for the gateway")
			}
		}
		sch.Action.Memo = *action.Memo
	}
	if policies != nil {
		sch.Policies = schedules.Policies{
			Overlap:        schedules.Overlap(deref(policies.Overlap)),
			CatchupWindow:  duration("policies.catchupWindow", policies.CatchupWindow, true),
			PauseOnFailure: deref(policies.PauseOnFailure),
		}
	}
	if state != nil {
		sch.State = &schedules.State{Paused: deref(state.Paused), Note: deref(state.Note)}
	}
	if len(fields) > 0 {
		return schedules.Schedule{}, validationProblem(fields...)
	}
	// The time zone is named by the IANA database, which the gateway carries (time/tzdata): a
	// name it does not know, Temporal would not either.
	if tz := sch.Spec.TimeZone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			p := newProblem(http.StatusUnprocessableEntity, problemUnknownTimeZone, "Unknown time zone",
				fmt.Sprintf("%q is not an IANA time zone name, such as Europe/Berlin or America/New_York.", tz))
			p.fields = []gen.FieldError{{In: gen.FieldErrorInBody, Field: "spec.timeZone", Message: "is not an IANA time zone name"}}
			return schedules.Schedule{}, p
		}
	}
	if err := s.requireTaskQueue(ctx, sch.Action.TaskQueue); err != nil {
		return schedules.Schedule{}, underAction(err)
	}
	if err := s.checkContract(&gen.StartWorkflowRequest{WorkflowType: action.WorkflowType, TaskQueue: action.TaskQueue, Input: action.Input}); err != nil {
		return schedules.Schedule{}, underAction(err)
	}
	return sch, nil
}

// underAction names the fields of a start's check as where they are in a schedule's body: in
// its action.
func underAction(err error) error {
	var p *problemError
	if !errors.As(err, &p) {
		return err
	}
	moved := *p
	moved.fields = make([]gen.FieldError, len(p.fields))
	for i, f := range p.fields {
		if strings.HasPrefix(f.Field, "/") {
			f.Field = "/action" + f.Field // a JSON pointer
		} else {
			f.Field = "action." + f.Field
		}
		moved.fields[i] = f
	}
	return &moved
}

// scheduleProblem maps what the schedules core refused; the rest goes to problemFor.
func scheduleProblem(id string, err error) error {
	var exists *schedules.ExistsError
	switch {
	case errors.As(err, &exists):
		p := newProblem(http.StatusConflict, problemScheduleExists, "Schedule exists",
			"A schedule with this id exists already; Location names it.")
		p.location = scheduleLocation(id)
		return p
	case errors.Is(err, schedules.ErrNotFound):
		return newProblem(http.StatusNotFound, problemScheduleNotFound, "Schedule not found", "No schedule has this id.")
	case errors.Is(err, schedules.ErrUnconfirmed):
		p := unavailableProblem()
		p.detail = "The update was sent to Temporal, but reading the schedule back to see whether it took effect failed; " +
			"GET the schedule to see, and update again with its ETag if it is not yours."
		return fmt.Errorf("%w: %w", p, err)
	case errors.Is(err, schedules.ErrChanged):
		return newProblem(http.StatusPreconditionFailed, problemScheduleChanged, "Schedule changed",
			"The schedule is not the version If-Match names; read it again and update that version.")
	case serviceerror.ToStatus(err).Code() == codes.InvalidArgument:
		p := newProblem(http.StatusBadRequest, problemRefused, "Refused by Temporal",
			"Temporal refused the schedule as invalid, for example a calendar field or cron string it cannot read, or an id over its length limit.")
		return fmt.Errorf("%w: %w", p, err) // the body is the problem's; the log keeps Temporal's reason
	}
	return err
}

func scheduleLocation(id string) string { return "/schedules/" + url.PathEscape(id) }

// scheduleETag is the schedule's conflict token as a strong validator.
func scheduleETag(token []byte) string {
	return `"` + base64.RawURLEncoding.EncodeToString(token) + `"`
}

// ifMatchTokens reads If-Match (RFC 9110 13.1.1): nil for "*", otherwise the conflict tokens of
// the listed tags. A tag that is no token of the gateway's matches no version.
func ifMatchTokens(h string) [][]byte {
	if strings.TrimSpace(h) == "*" {
		return nil
	}
	tokens := [][]byte{}
	for tag := range strings.SplitSeq(h, ",") {
		tag = strings.TrimSpace(tag)
		if strings.HasPrefix(tag, "W/") {
			continue // a weak tag never matches for If-Match
		}
		b, err := base64.RawURLEncoding.DecodeString(strings.Trim(tag, `"`))
		if err == nil {
			tokens = append(tokens, b)
		}
	}
	return tokens
}

// scheduleBody is a schedule as the contract answers it.
func scheduleBody(sch schedules.Schedule) gen.Schedule {
	out := gen.Schedule{ScheduleId: sch.ID}
	sp := sch.Spec
	if len(sp.Calendars) > 0 {
		cals := make([]gen.ScheduleCalendar, len(sp.Calendars))
		for i, c := range sp.Calendars {
			cals[i] = gen.ScheduleCalendar{
				Second: optional(c.Second), Minute: optional(c.Minute), Hour: optional(c.Hour), DayOfMonth: optional(c.DayOfMonth),
				Month: optional(c.Month), Year: optional(c.Year), DayOfWeek: optional(c.DayOfWeek), Comment: optional(c.Comment),
			}
		}
		out.Spec.Calendars = &cals
	}
	if len(sp.Intervals) > 0 {
		ivs := make([]gen.ScheduleInterval, len(sp.Intervals))
		for i, iv := range sp.Intervals {
			ivs[i] = gen.ScheduleInterval{Every: iv.Every.String()}
			if iv.Offset > 0 {
				ivs[i].Offset = ptr(iv.Offset.String())
			}
		}
		out.Spec.Intervals = &ivs
	}
	if len(sp.Crons) > 0 {
		out.Spec.CronStrings = &sp.Crons
	}
	out.Spec.TimeZone = optional(sp.TimeZone)
	out.Spec.StartAt, out.Spec.EndAt = sp.StartAt, sp.EndAt
	out.Spec.Jitter = optionalDuration(sp.Jitter)
	a := sch.Action
	out.Action = gen.ScheduleAction{
		WorkflowType: a.WorkflowType, WorkflowId: a.WorkflowID, TaskQueue: optional(a.TaskQueue),
		ExecutionTimeout: optionalDuration(a.ExecutionTimeout), RunTimeout: optionalDuration(a.RunTimeout),
	}
	if a.Input != nil {
		out.Action.Input = &a.Input
	}
	if len(a.Memo) > 0 {
		memo := gen.Memo(a.Memo)
		out.Action.Memo = &memo
	}
	out.Policies = gen.SchedulePolicies{
		CatchupWindow: optionalDuration(sch.Policies.CatchupWindow), PauseOnFailure: ptr(sch.Policies.PauseOnFailure),
	}
	if sch.Policies.Overlap != "" {
		out.Policies.Overlap = ptr(gen.ScheduleOverlapPolicy(sch.Policies.Overlap))
	}
	if sch.State != nil {
		out.State = gen.ScheduleState{Paused: ptr(sch.State.Paused), Note: optional(sch.State.Note)}
	}
	if i := sch.Info; i != nil {
		info := &gen.ScheduleInfo{
			ActionCount: i.ActionCount, MissedCatchupWindow: i.MissedCatchupWindow, OverlapSkipped: i.OverlapSkipped,
			RunningExecutions: make([]gen.ScheduleExecution, len(i.Running)),
			RecentActions:     actionResultBodies(i.Recent), NextActionTimes: utcTimes(i.Next),
			CreateTime: i.CreateTime, UpdateTime: i.UpdateTime,
		}
		for j, r := range i.Running {
			info.RunningExecutions[j] = gen.ScheduleExecution{WorkflowId: r.WorkflowID, RunId: r.RunID}
		}
		out.Info = info
	}
	return out
}

func actionResultBodies(list []schedules.ActionResult) []gen.ScheduleActionResult {
	out := make([]gen.ScheduleActionResult, len(list))
	for i, a := range list {
		out[i] = gen.ScheduleActionResult{ScheduleTime: a.ScheduleTime.UTC(), ActualTime: a.ActualTime.UTC(), WorkflowId: a.WorkflowID, RunId: a.RunID}
	}
	return out
}

func utcTimes(list []time.Time) []time.Time {
	out := make([]time.Time, len(list))
	for i, t := range list {
		out[i] = t.UTC()
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalDuration(d time.Duration) *string {
	if d == 0 {
		return nil
	}
	return ptr(d.String())
}

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/temporalhttp/gateway/client"
)

// The schedule tests drive schedules through the generated Go client against the dev server,
// with the Greeting sample as the action: it completes within a moment, so runs never overlap.

// greetingSchedule is a schedule whose action greets name under workflow id prefix.
func greetingSchedule(id, prefix, name string, spec client.ScheduleSpec) client.CreateScheduleRequest {
	return client.CreateScheduleRequest{
		ScheduleId: id,
		Spec:       spec,
		Action:     client.ScheduleAction{WorkflowType: "Greeting", WorkflowId: prefix, Input: rawJSON(`{"name":"` + name + `"}`)},
	}
}

func everySecond() client.ScheduleSpec {
	return client.ScheduleSpec{Intervals: &[]client.ScheduleInterval{{Every: "1s"}}}
}

// createSchedule creates req, requires a 201, and deletes the schedule when the test ends (unless
// the test deleted it).
func createSchedule(t *testing.T, req client.CreateScheduleRequest) *client.CreateScheduleResponse {
	t.Helper()
	r, err := api(t).CreateScheduleWithResponse(t.Context(), req)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON201)
	deleteScheduleAtEnd(t, req.ScheduleId)
	return r
}

// deleteScheduleAtEnd deletes the schedule id when the test ends, if it is still there: a
// schedule left behind would go on starting runs for the rest of the suite. (t.Context() is
// canceled by then.)
func deleteScheduleAtEnd(t *testing.T, id string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := client.NewClientWithResponses(gatewayURL); err == nil {
			_, _ = c.DeleteScheduleWithResponse(ctx, id)
		}
	})
}

// readSchedule requires a 200 for the schedule id.
func readSchedule(t *testing.T, id string) *client.GetScheduleResponse {
	t.Helper()
	r, err := api(t).GetScheduleWithResponse(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	require.NotNil(t, r.JSON200)
	require.NotNil(t, r.JSON200.Info)
	return r
}

func actionCount(t *testing.T, id string) int64 {
	t.Helper()
	return readSchedule(t, id).JSON200.Info.ActionCount
}

// scheduledRuns lists the executions the schedule id started, as GET /workflows?scheduleId= does.
func scheduledRuns(t *testing.T, id string) []client.Execution {
	t.Helper()
	r, err := api(t).ListWorkflowsWithResponse(t.Context(), &client.ListWorkflowsParams{ScheduleId: &id})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	return r.JSON200.Executions
}

func completedRuns(list []client.Execution) int {
	n := 0
	for _, e := range list {
		if e.Status == client.ExecutionStatusCOMPLETED {
			n++
		}
	}
	return n
}

func TestScheduleFiresPausesResumesAndLeavesItsRunsOnDelete(t *testing.T) {
	id := uniqueID(t)
	created := createSchedule(t, greetingSchedule(id, id+"-run", "Ada", everySecond()))
	assert.Equal(t, "/schedules/"+id, created.HTTPResponse.Header.Get("Location"))
	assert.NotEmpty(t, created.HTTPResponse.Header.Get("ETag"))
	assert.Equal(t, "Greeting", created.JSON201.Action.WorkflowType)
	assert.Equal(t, taskQueue, *created.JSON201.Action.TaskQueue, "the deployment's own queue when none is named")

	// It fires at least twice, and its runs are ordinary executions, which the list finds by the
	// schedule's id and which complete.
	var runs []client.Execution
	require.Eventually(t, func() bool {
		runs = scheduledRuns(t, id)
		return completedRuns(runs) >= 2
	}, 30*time.Second, 300*time.Millisecond, "two completed runs of the schedule")
	for _, run := range runs {
		assert.True(t, strings.HasPrefix(run.WorkflowId, id+"-run-"), "the run's id is the action's with the fire time appended: %s", run.WorkflowId)
		assert.Equal(t, "Greeting", run.WorkflowType)
	}
	done := get(t, runs[0].WorkflowId, &client.GetWorkflowParams{Wait: ptr("10s")})
	require.Equal(t, client.ExecutionStatusCOMPLETED, done.JSON200.Status)
	assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*done.JSON200.Result))

	read := readSchedule(t, id).JSON200
	assert.GreaterOrEqual(t, read.Info.ActionCount, int64(2))
	assert.NotEmpty(t, read.Info.RecentActions)
	assert.NotEmpty(t, read.Info.NextActionTimes, "a running schedule has next action times")
	assert.Equal(t, []client.ScheduleInterval{{Every: "1s"}}, *read.Spec.Intervals)

	// Paused, it takes no action.
	p, err := api(t).PauseScheduleWithResponse(t.Context(), id, client.ScheduleNoteRequest{Note: ptr("quiet, please")})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, p.StatusCode(), "body: %s", p.Body)
	paused := readSchedule(t, id).JSON200
	assert.True(t, *paused.State.Paused, "a read right after the 204 sees the pause")
	assert.Equal(t, "quiet, please", *paused.State.Note)
	// A start that the schedule had begun as the pause came in may still be counted a moment
	// later; what counts is that nothing follows it.
	time.Sleep(2 * time.Second)
	before := actionCount(t, id)
	time.Sleep(3 * time.Second) // three fire times of the spec
	assert.Equal(t, before, actionCount(t, id), "a paused schedule takes no action")

	// Unpaused, it acts again.
	u, err := api(t).UnpauseScheduleWithResponse(t.Context(), id, client.ScheduleNoteRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, u.StatusCode(), "body: %s", u.Body)
	require.Eventually(t, func() bool { return actionCount(t, id) >= before+2 }, 15*time.Second, 300*time.Millisecond,
		"an unpaused schedule acts again")

	// Deleted, it is gone, and the runs it started are left as they were.
	d, err := api(t).DeleteScheduleWithResponse(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, d.StatusCode(), "body: %s", d.Body)
	gone, err := api(t).GetScheduleWithResponse(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, gone.StatusCode(), "body: %s", gone.Body)
	assert.Equal(t, "application/problem+json", gone.HTTPResponse.Header.Get("Content-Type"))
	for _, run := range runs {
		assert.Equal(t, client.ExecutionStatusCOMPLETED, get(t, run.WorkflowId, nil).JSON200.Status, run.WorkflowId)
	}
}

func TestScheduleTriggerStartsARunAtOnce(t *testing.T) {
	id := uniqueID(t)
	req := greetingSchedule(id, id+"-run", "Grace", client.ScheduleSpec{Intervals: &[]client.ScheduleInterval{{Every: "24h"}}})
	req.State = &client.ScheduleState{Paused: ptr(true), Note: ptr("only by hand")}
	createSchedule(t, req)

	r, err := api(t).TriggerScheduleWithResponse(t.Context(), id, client.TriggerScheduleRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, r.StatusCode(), "body: %s", r.Body)

	var recent []client.ScheduleActionResult
	require.Eventually(t, func() bool {
		recent = readSchedule(t, id).JSON200.Info.RecentActions
		return len(recent) == 1
	}, 10*time.Second, 200*time.Millisecond, "the trigger took the action though the schedule is paused")
	run := get(t, recent[0].WorkflowId, &client.GetWorkflowParams{Wait: ptr("10s")}).JSON200
	assert.Equal(t, client.ExecutionStatusCOMPLETED, run.Status)
	assert.JSONEq(t, `{"greeting":"Hello, Grace!"}`, string(*run.Result))
	assert.Equal(t, recent[0].RunId, run.RunId)
}

func TestScheduleBackfillTakesEachTimeOfItsRange(t *testing.T) {
	id := uniqueID(t)
	req := greetingSchedule(id, id+"-run", "Edsger", client.ScheduleSpec{Intervals: &[]client.ScheduleInterval{{Every: "1m"}}})
	req.State = &client.ScheduleState{Paused: ptr(true)}
	createSchedule(t, req)

	// Minutes of an hour ago: startAt and endAt fall on fire times, and both count.
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	end := start.Add(3 * time.Minute)
	r, err := api(t).BackfillScheduleWithResponse(t.Context(), id, client.BackfillScheduleRequest{
		StartAt: start, EndAt: end, Overlap: ptr(client.ScheduleOverlapPolicyALLOWALL),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, r.StatusCode(), "body: %s", r.Body)

	require.Eventually(t, func() bool { return actionCount(t, id) >= 4 }, 15*time.Second, 200*time.Millisecond)
	time.Sleep(time.Second) // a fifth action, were there one, would have come by now
	read := readSchedule(t, id).JSON200
	require.Equal(t, int64(4), read.Info.ActionCount, "one action per minute from startAt to endAt, both included")
	var times []time.Time
	for _, a := range read.Info.RecentActions {
		times = append(times, a.ScheduleTime.UTC())
	}
	assert.ElementsMatch(t, []time.Time{start, start.Add(time.Minute), start.Add(2 * time.Minute), end}, times)
	require.Eventually(t, func() bool { return completedRuns(scheduledRuns(t, id)) == 4 }, 20*time.Second, 300*time.Millisecond,
		"the four runs complete")
}

func TestScheduleUpdateNeedsTheCurrentVersion(t *testing.T) {
	id := uniqueID(t)
	req := greetingSchedule(id, id+"-run", "Ada", client.ScheduleSpec{Intervals: &[]client.ScheduleInterval{{Every: "24h"}}})
	req.State = &client.ScheduleState{Paused: ptr(true), Note: ptr("not yet")}
	createSchedule(t, req)
	first := readSchedule(t, id)
	tag := first.HTTPResponse.Header.Get("ETag")
	require.NotEmpty(t, tag)

	update := client.UpdateScheduleRequest{
		Spec:   client.ScheduleSpec{Intervals: &[]client.ScheduleInterval{{Every: "1h", Offset: ptr("5m")}}, TimeZone: ptr("Europe/Berlin")},
		Action: client.ScheduleAction{WorkflowType: "Greeting", WorkflowId: id + "-hourly", Input: rawJSON(`{"name":"Grace"}`)},
	}
	put := func(ifMatch *string) *client.UpdateScheduleResponse {
		t.Helper()
		r, err := api(t).UpdateScheduleWithResponse(t.Context(), id, &client.UpdateScheduleParams{IfMatch: ifMatch}, update)
		require.NoError(t, err)
		return r
	}

	r := put(nil)
	require.Equal(t, http.StatusPreconditionRequired, r.StatusCode(), "body: %s", r.Body)

	r = put(&tag)
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
	newTag := r.HTTPResponse.Header.Get("ETag")
	assert.NotEqual(t, tag, newTag)
	assert.Equal(t, id+"-hourly", r.JSON200.Action.WorkflowId)
	assert.Equal(t, []client.ScheduleInterval{{Every: "1h0m0s", Offset: ptr("5m0s")}}, *r.JSON200.Spec.Intervals)
	assert.True(t, *r.JSON200.State.Paused, "an update without state keeps the schedule paused")
	assert.Equal(t, "not yet", *r.JSON200.State.Note)
	assert.Equal(t, newTag, readSchedule(t, id).HTTPResponse.Header.Get("ETag"), "a read answers the version the update did")

	// The version read before the update is stale now.
	r = put(&tag)
	require.Equal(t, http.StatusPreconditionFailed, r.StatusCode(), "body: %s", r.Body)
	// So is the update's own once the schedule is paused again: a pause is a change too.
	p, err := api(t).PauseScheduleWithResponse(t.Context(), id, client.ScheduleNoteRequest{Note: ptr("still not")})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, p.StatusCode())
	r = put(&newTag)
	require.Equal(t, http.StatusPreconditionFailed, r.StatusCode(), "body: %s", r.Body)
	// "*" replaces whatever is there.
	r = put(ptr("*"))
	require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
}

// TestTemporalDropsAStaleScheduleUpdateSilently pins down the server behaviour that the gateway's
// If-Match works around: an UpdateSchedule with a stale conflict token answers success, and the
// schedule is left as it was. Should a Temporal release refuse it instead, this test says so.
func TestTemporalDropsAStaleScheduleUpdateSilently(t *testing.T) {
	id := uniqueID(t)
	createSchedule(t, greetingSchedule(id, id+"-run", "Ada", client.ScheduleSpec{Intervals: &[]client.ScheduleInterval{{Every: "24h"}}}))
	svc := temporalC.WorkflowService()
	desc, err := svc.DescribeSchedule(t.Context(), &workflowservice.DescribeScheduleRequest{Namespace: "default", ScheduleId: id})
	require.NoError(t, err)
	stale := desc.ConflictToken
	p, err := api(t).PauseScheduleWithResponse(t.Context(), id, client.ScheduleNoteRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, p.StatusCode())

	changed := desc.Schedule
	changed.Spec = &schedulepb.ScheduleSpec{Interval: []*schedulepb.IntervalSpec{{Interval: durationpb.New(time.Hour)}}}
	_, err = svc.UpdateSchedule(t.Context(), &workflowservice.UpdateScheduleRequest{
		Namespace: "default", ScheduleId: id, Schedule: changed, ConflictToken: stale, RequestId: uniqueID(t),
	})
	require.NoError(t, err, "Temporal answers a stale update with success")
	after := readSchedule(t, id).JSON200
	assert.Equal(t, []client.ScheduleInterval{{Every: "24h0m0s"}}, *after.Spec.Intervals, "and drops it")
}

func TestScheduleRefusals(t *testing.T) {
	id := uniqueID(t)
	createSchedule(t, greetingSchedule(id, id+"-run", "Ada", client.ScheduleSpec{Intervals: &[]client.ScheduleInterval{{Every: "24h"}}}))

	t.Run("a duplicate id", func(t *testing.T) {
		r, err := api(t).CreateScheduleWithResponse(t.Context(), greetingSchedule(id, "other", "Bob", everySecond()))
		require.NoError(t, err)
		require.Equal(t, http.StatusConflict, r.StatusCode(), "body: %s", r.Body)
		assert.Equal(t, "/schedules/"+id, r.HTTPResponse.Header.Get("Location"))
		assert.Equal(t, "urn:temporal-http:problem:schedule-exists", r.ApplicationproblemJSON409.Type)
		assert.Equal(t, "Ada", greetingName(t, readSchedule(t, id).JSON200), "the existing schedule is untouched")
	})
	for _, tc := range []struct {
		name   string
		edit   func(*client.CreateScheduleRequest)
		status int
		typ    string
		field  string
	}{
		{"a type no worker hosts", func(r *client.CreateScheduleRequest) { r.Action.WorkflowType = "Shipping" },
			http.StatusUnprocessableEntity, "urn:temporal-http:problem:unknown-workflow-type", ""},
		{"an input that does not fit", func(r *client.CreateScheduleRequest) { r.Action.Input = rawJSON(`{"nome":"Ada"}`) },
			http.StatusUnprocessableEntity, "urn:temporal-http:problem:invalid-input", "/action/input/nome"},
		{"an unknown time zone", func(r *client.CreateScheduleRequest) { r.Spec.TimeZone = ptr("Mars/Olympus_Mons") },
			http.StatusUnprocessableEntity, "urn:temporal-http:problem:unknown-time-zone", "spec.timeZone"},
		{"a cron string Temporal cannot read", func(r *client.CreateScheduleRequest) { r.Spec.CronStrings = &[]string{"61 * * * *"} },
			http.StatusBadRequest, "urn:temporal-http:problem:refused-by-temporal", ""},
		{"a calendar hour out of range", func(r *client.CreateScheduleRequest) {
			r.Spec.Calendars = &[]client.ScheduleCalendar{{Hour: ptr("25")}}
		}, http.StatusBadRequest, "urn:temporal-http:problem:refused-by-temporal", ""},
		{"an offset as long as the interval", func(r *client.CreateScheduleRequest) {
			r.Spec.Intervals = &[]client.ScheduleInterval{{Every: "1m", Offset: ptr("1m")}}
		}, http.StatusBadRequest, "urn:temporal-http:problem:validation", "spec.intervals[0].offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := greetingSchedule(uniqueID(t), "x", "Ada", everySecond())
			tc.edit(&req)
			deleteScheduleAtEnd(t, req.ScheduleId) // should the refusal fail
			r, err := api(t).CreateScheduleWithResponse(t.Context(), req)
			require.NoError(t, err)
			require.Equal(t, tc.status, r.StatusCode(), "body: %s", r.Body)
			assert.Equal(t, "application/problem+json", r.HTTPResponse.Header.Get("Content-Type"))
			assert.Contains(t, string(r.Body), `"type":"`+tc.typ+`"`)
			if tc.field != "" {
				assert.Contains(t, string(r.Body), `"field":"`+tc.field+`"`)
			}
			missing, err := api(t).GetScheduleWithResponse(t.Context(), req.ScheduleId)
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, missing.StatusCode(), "nothing was created")
		})
	}
	t.Run("an unknown schedule", func(t *testing.T) {
		r, err := api(t).PauseScheduleWithResponse(t.Context(), id+"-none", client.ScheduleNoteRequest{})
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, r.StatusCode(), "body: %s", r.Body)
		assert.Equal(t, "urn:temporal-http:problem:schedule-not-found", r.ApplicationproblemJSON404.Type)
	})
}

func TestScheduleList(t *testing.T) {
	id := uniqueID(t)
	createSchedule(t, greetingSchedule(id, id+"-run", "Ada", client.ScheduleSpec{Intervals: &[]client.ScheduleInterval{{Every: "24h"}}}))
	// The list reads visibility, which may lag the create by a moment.
	require.Eventually(t, func() bool {
		var token *string
		for {
			r, err := api(t).ListSchedulesWithResponse(t.Context(), &client.ListSchedulesParams{PageSize: ptr(2), PageToken: token})
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
			for _, s := range r.JSON200.Schedules {
				if s.ScheduleId == id {
					return assert.Equal(t, "Greeting", *s.WorkflowType)
				}
			}
			if r.JSON200.NextPageToken == nil {
				return false
			}
			token = r.JSON200.NextPageToken
		}
	}, 15*time.Second, 300*time.Millisecond)
}

func greetingName(t *testing.T, s *client.Schedule) string {
	t.Helper()
	require.NotNil(t, s.Action.Input)
	var in struct{ Name string }
	require.NoError(t, json.Unmarshal(*s.Action.Input, &in))
	return in.Name
}

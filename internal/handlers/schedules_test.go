package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/temporalhttp/gateway/internal/gen"
)

const greetingScheduleBody = `{"scheduleId":"hourly","spec":{"intervals":[{"every":"1h","offset":"5m"}],"timeZone":"Europe/Berlin"},` +
	`"action":{"workflowType":"Greeting","workflowId":"greet","input":{"name":"Ada"}},"policies":{"overlap":"ALLOW_ALL","catchupWindow":"10m"}}`

func TestCreateSchedule(t *testing.T) {
	fake := &fakeTemporal{}
	rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/schedules", greetingScheduleBody))
	require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
	assert.Equal(t, "/schedules/hourly", rec.Header().Get("Location"))
	assert.Regexp(t, `^"AAAAAAAAAA[A-Za-z0-9_-]+"$`, rec.Header().Get("ETag"),
		"the conflict token (1) and the revision, base64url, as a strong tag")
	var body gen.Schedule
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "hourly", body.ScheduleId)
	assert.Equal(t, defaultTaskQueue, *body.Action.TaskQueue)
	assert.JSONEq(t, `{"name":"Ada"}`, string(*body.Action.Input))
	assert.Equal(t, gen.ScheduleOverlapPolicyALLOWALL, *body.Policies.Overlap)
	assert.Equal(t, "10m0s", *body.Policies.CatchupWindow)
	assert.Nil(t, body.Info, "info comes with reads")

	got := fake.schedules["hourly"].schedule
	start := got.GetAction().GetStartWorkflow()
	assert.Equal(t, "Greeting", start.GetWorkflowType().GetName())
	assert.Equal(t, defaultTaskQueue, start.GetTaskQueue().GetName())
	assert.JSONEq(t, `{"name":"Ada"}`, string(start.GetInput().GetPayloads()[0].GetData()))
	assert.Equal(t, "Europe/Berlin", got.GetSpec().GetTimezoneName())
	assert.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, got.GetPolicies().GetOverlapPolicy())
}

func TestCreateScheduleRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, body, typ, field string
	}{
		{"a type no worker hosts", `{"scheduleId":"s","spec":{},"action":{"workflowType":"Shipping","workflowId":"x"}}`,
			"urn:temporal-http:problem:unknown-workflow-type", ""},
		{"an input that does not fit", `{"scheduleId":"s","spec":{},"action":{"workflowType":"Sleep","workflowId":"x","input":{"seconds":-1}}}`,
			"urn:temporal-http:problem:invalid-input", "/action/input/seconds"},
		{"no input where one is needed", `{"scheduleId":"s","spec":{},"action":{"workflowType":"Greeting","workflowId":"x"}}`,
			"urn:temporal-http:problem:invalid-input", "/action/input/name"},
		{"an unknown time zone", `{"scheduleId":"s","spec":{"timeZone":"Mars/Olympus_Mons"},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:unknown-time-zone", "spec.timeZone"},
		{"the server's own zone", `{"scheduleId":"s","spec":{"timeZone":"Local"},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:unknown-time-zone", "spec.timeZone"},
		{"an offset as long as its interval", `{"scheduleId":"s","spec":{"intervals":[{"every":"1m","offset":"1m"}]},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:validation", "spec.intervals[0].offset"},
		{"an interval of nothing", `{"scheduleId":"s","spec":{"intervals":[{"every":"0s"}]},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:validation", "spec.intervals[0].every"},
		{"an id over Temporal's bytes", `{"scheduleId":"` + strings.Repeat("ü", 489) + `","spec":{},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:validation", "scheduleId"},
		{"an action id over Temporal's bytes", `{"scheduleId":"s","spec":{},"action":{"workflowType":"Echo","workflowId":"` + strings.Repeat("ü", 490) + `"}}`,
			"urn:temporal-http:problem:validation", "action.workflowId"},
		{"an interval of part of a second", `{"scheduleId":"s","spec":{"intervals":[{"every":"1500ms"}]},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:validation", "spec.intervals[0].every"},
		{"an offset of part of a second", `{"scheduleId":"s","spec":{"intervals":[{"every":"2s","offset":"500ms"}]},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:validation", "spec.intervals[0].offset"},
		{"a cron string's own time zone", `{"scheduleId":"s","spec":{"cronStrings":["CRON_TZ=Mars/X 0 9 * * *"]},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:validation", "spec.cronStrings[0]"},
		{"an end before the start", `{"scheduleId":"s","spec":{"startAt":"2026-02-01T00:00:00Z","endAt":"2026-01-01T00:00:00Z"},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:validation", "spec.endAt"},
		{"an Idempotency-Key's id", `{"scheduleId":"s","spec":{},"action":{"workflowType":"Echo","workflowId":"idem-x"}}`,
			"urn:temporal-http:problem:validation", "action.workflowId"},
		{"another task queue", `{"scheduleId":"s","spec":{},"action":{"workflowType":"Echo","workflowId":"x","taskQueue":"elsewhere"}}`,
			"urn:temporal-http:problem:task-queue-not-allowed", "action.taskQueue"},
		{"an id of dots", `{"scheduleId":"..","spec":{},"action":{"workflowType":"Echo","workflowId":"x"}}`,
			"urn:temporal-http:problem:validation", "scheduleId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake, withContractTypes(t)), newRequest(http.MethodPost, "/schedules", tc.body))
			p := requireProblem(t, rec, tc.typ)
			if tc.field != "" {
				require.NotNil(t, p.Errors)
				assert.Equal(t, tc.field, (*p.Errors)[0].Field)
			}
			assert.Empty(t, fake.schedules, "nothing reached Temporal")
		})
	}
}

func TestCreateScheduleAnswersWhatTemporalRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		typ  string
	}{
		{"an invalid spec", serviceerror.NewInvalidArgument(secret), "urn:temporal-http:problem:refused-by-temporal"},
		{"Temporal unreachable", serviceerror.NewUnavailable(secret), "urn:temporal-http:problem:temporal-unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			fake.scheduleErr = tc.err
			requireProblem(t, serve(newRouter(t, fake), newRequest(http.MethodPost, "/schedules", greetingScheduleBody)), tc.typ)
		})
	}
	t.Run("a duplicate id", func(t *testing.T) {
		fake := withGreetingSchedule(&fakeTemporal{}, "hourly")
		rec := serve(newRouter(t, fake), newRequest(http.MethodPost, "/schedules", greetingScheduleBody))
		requireProblem(t, rec, "urn:temporal-http:problem:schedule-exists")
		assert.Equal(t, "/schedules/hourly", rec.Header().Get("Location"))
	})
}

func TestGetSchedule(t *testing.T) {
	fake := withGreetingSchedule(&fakeTemporal{}, "nightly")
	h := newRouter(t, fake)
	rec := serve(h, newRequest(http.MethodGet, "/schedules/nightly", ""))
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	assert.Equal(t, `"AAAAAAAAAAE"`, rec.Header().Get("ETag"))
	var body gen.Schedule
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.NotNil(t, body.Info)
	assert.Equal(t, int64(2), body.Info.ActionCount)
	assert.Equal(t, []gen.ScheduleInterval{{Every: "1h0m0s"}}, *body.Spec.Intervals)
	assert.JSONEq(t, `{"name":"Ada"}`, string(*body.Action.Input))

	requireProblem(t, serve(h, newRequest(http.MethodGet, "/schedules/other", "")), "urn:temporal-http:problem:schedule-not-found")
}

func TestUpdateScheduleIfMatch(t *testing.T) {
	const body = `{"spec":{"cronStrings":["@daily"]},"action":{"workflowType":"Greeting","workflowId":"greet","input":{"name":"Grace"}}}`
	put := func(h http.Handler, ifMatch string) *http.Response {
		req := newRequest(http.MethodPut, "/schedules/nightly", body)
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		return serve(h, req).Result()
	}
	for _, tc := range []struct {
		name, ifMatch string
		between       func(*fakeSchedule)
		status        int
	}{
		{"no If-Match", "", nil, http.StatusPreconditionRequired},
		{"the current version", `"AAAAAAAAAAE"`, nil, http.StatusOK},
		{"among others", `"AAAAAAAAAAk", "AAAAAAAAAAE"`, nil, http.StatusOK},
		{"any version", `*`, nil, http.StatusOK},
		{"a stale version", `"AAAAAAAAAAk"`, nil, http.StatusPreconditionFailed},
		{"a weak tag", `W/"AAAAAAAAAAE"`, nil, http.StatusPreconditionFailed},
		{"a tag the gateway never made", `"not base64!"`, nil, http.StatusPreconditionFailed},
		// Temporal drops the update silently when another change lands first: the gateway's read
		// afterwards finds its revision missing.
		{"a change in between", `"AAAAAAAAAAE"`, func(s *fakeSchedule) {
			s.schedule.Spec = &schedulepb.ScheduleSpec{CronString: []string{"@hourly"}}
			s.token++
		}, http.StatusPreconditionFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := withGreetingSchedule(&fakeTemporal{}, "nightly")
			fake.schedules["nightly"].schedule.State = &schedulepb.ScheduleState{Paused: true, Notes: "hold"}
			fake.beforeUpdate = tc.between
			h := newRouter(t, fake)
			resp := put(h, tc.ifMatch)
			require.Equal(t, tc.status, resp.StatusCode)
			if tc.status != http.StatusOK {
				assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
				return
			}
			etag := resp.Header.Get("ETag")
			assert.NotEqual(t, `"AAAAAAAAAAE"`, etag)
			assert.Equal(t, etag, serve(h, newRequest(http.MethodGet, "/schedules/nightly", "")).Header().Get("ETag"),
				"the ETag of the update is the version a read finds")
			var got gen.Schedule
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			assert.Equal(t, []string{"@daily"}, *got.Spec.CronStrings)
			assert.True(t, *got.State.Paused, "an update without state keeps it")
			assert.Equal(t, "hold", *got.State.Note)
		})
	}
}

func TestScheduleActions(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		check                    func(*testing.T, *fakeTemporal)
	}{
		{"pause", http.MethodPost, "/schedules/nightly/pause", `{"note":"hold"}`, http.StatusNoContent, func(t *testing.T, f *fakeTemporal) {
			assert.Equal(t, &schedulepb.ScheduleState{Paused: true, Notes: "hold"}, f.schedules["nightly"].schedule.State)
		}},
		{"pause without a note", http.MethodPost, "/schedules/nightly/pause", `{}`, http.StatusNoContent, func(t *testing.T, f *fakeTemporal) {
			assert.True(t, f.schedules["nightly"].schedule.State.Paused, "Temporal takes an empty pause note for none: the gateway gives one")
		}},
		{"unpause", http.MethodPost, "/schedules/nightly/unpause", `{}`, http.StatusNoContent, func(t *testing.T, f *fakeTemporal) {
			assert.Equal(t, "unpaused", f.patches[0].Patch.Unpause)
		}},
		{"trigger", http.MethodPost, "/schedules/nightly/trigger", `{"overlap":"BUFFER_ONE"}`, http.StatusAccepted, func(t *testing.T, f *fakeTemporal) {
			assert.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, f.patches[0].Patch.TriggerImmediately.OverlapPolicy)
		}},
		{"backfill", http.MethodPost, "/schedules/nightly/backfill", `{"startAt":"2026-01-01T00:00:00Z","endAt":"2026-01-02T00:00:00+01:00"}`,
			http.StatusAccepted, func(t *testing.T, f *fakeTemporal) {
				b := f.patches[0].Patch.BackfillRequest[0]
				assert.Equal(t, "2026-01-01T00:00:00Z", b.StartTime.AsTime().Format("2006-01-02T15:04:05Z07:00"))
				assert.Equal(t, "2026-01-01T23:00:00Z", b.EndTime.AsTime().Format("2006-01-02T15:04:05Z07:00"))
				assert.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED, b.OverlapPolicy, "the schedule's own policy")
			}},
		{"pause with a note over Temporal's bytes", http.MethodPost, "/schedules/nightly/pause", `{"note":"` + strings.Repeat("ü", 600) + `"}`,
			http.StatusBadRequest, func(t *testing.T, f *fakeTemporal) { assert.Empty(t, f.patches) }},
		{"backfill of one time", http.MethodPost, "/schedules/nightly/backfill", `{"startAt":"2026-01-01T00:00:00Z","endAt":"2026-01-01T00:00:00Z"}`,
			http.StatusAccepted, func(t *testing.T, f *fakeTemporal) { require.Len(t, f.patches, 1) }},
		{"backfill that ends before it starts", http.MethodPost, "/schedules/nightly/backfill", `{"startAt":"2026-01-02T00:00:00Z","endAt":"2026-01-01T00:00:00Z"}`,
			http.StatusBadRequest, func(t *testing.T, f *fakeTemporal) { assert.Empty(t, f.patches) }},
		{"backfill of the future", http.MethodPost, "/schedules/nightly/backfill", `{"startAt":"2026-01-01T00:00:00Z","endAt":"2999-01-01T00:00:00Z"}`,
			http.StatusBadRequest, func(t *testing.T, f *fakeTemporal) { assert.Empty(t, f.patches) }},
		{"delete", http.MethodDelete, "/schedules/nightly", "", http.StatusNoContent, func(t *testing.T, f *fakeTemporal) {
			assert.NotContains(t, f.schedules, "nightly")
		}},
		{"pause of an unknown schedule", http.MethodPost, "/schedules/other/pause", `{}`, http.StatusNotFound, nil},
		{"delete of an unknown schedule", http.MethodDelete, "/schedules/other", "", http.StatusNotFound, nil},
		{"list", http.MethodGet, "/schedules", "", http.StatusOK, nil},
		{"list with a token Temporal refuses", http.MethodGet, "/schedules?pageToken=YmFk", "", http.StatusBadRequest, nil},
		{"list with a token that is no token", http.MethodGet, "/schedules?pageToken=%21%21", "", http.StatusBadRequest, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := withGreetingSchedule(&fakeTemporal{}, "nightly")
			rec := serve(newRouter(t, fake), newRequest(tc.method, tc.path, tc.body))
			require.Equal(t, tc.status, rec.Code, "body: %s", rec.Body)
			if tc.check != nil {
				tc.check(t, fake)
			}
		})
	}
}

func TestScheduleListShowsEachSchedule(t *testing.T) {
	fake := withGreetingSchedule(withGreetingSchedule(&fakeTemporal{}, "a"), "b")
	rec := serve(newRouter(t, fake), newRequest(http.MethodGet, "/schedules", ""))
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	var page gen.ScheduleList
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	require.Len(t, page.Schedules, 2)
	assert.Equal(t, "a", page.Schedules[0].ScheduleId)
	assert.Equal(t, "Greeting", *page.Schedules[0].WorkflowType)
	assert.Nil(t, page.NextPageToken, "no token after the last page")
}

// A schedule on another queue is an administrator's, as a start there is.
func TestScheduleOnAnotherQueueNeedsAdmin(t *testing.T) {
	c := newCredentials(t)
	const body = `{"scheduleId":"s","spec":{},"action":{"workflowType":"Anything","workflowId":"x","taskQueue":"elsewhere","input":[1]}}`
	for scopes, want := range map[string]int{"admin": http.StatusCreated, "schedule": http.StatusForbidden} {
		fake := &fakeTemporal{}
		rec := serve(newRouter(t, fake, withAuth(c.auth)), withKey(newRequest(http.MethodPost, "/schedules", body), c.keys[scopes]))
		assert.Equal(t, want, rec.Code, "%s: %s", scopes, rec.Body)
	}
}

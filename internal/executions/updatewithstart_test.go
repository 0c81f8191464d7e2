package executions

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

func addItem(id, key, sku string) StartSpec {
	return StartSpec{WorkflowType: "Cart", WorkflowID: id, Key: key, Input: json.RawMessage(`{}`),
		Update: &Update{Name: "addItem", Input: json.RawMessage(`{"sku":"` + sku + `","quantity":1,"priceCents":100}`)}}
}

func TestUpdateWithStartWithoutKey(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)

	first, err := s.Start(ctx, addItem("cart", "", "a"))
	require.NoError(t, err)
	assert.True(t, first.Created, "the first call starts the run")
	require.NotNil(t, first.Update)
	assert.JSONEq(t, `{"applied":1}`, string(first.Update.Result))
	assert.NotEmpty(t, first.Update.ID, "an update id is made")
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, f.workflowStarts()[0].Options.WorkflowIDConflictPolicy, "update-with-start defaults to USE_EXISTING")

	second, err := s.Start(ctx, addItem("cart", "", "b"))
	require.NoError(t, err)
	assert.False(t, second.Created, "the second call updates the same run")
	assert.Equal(t, first.RunID, second.RunID)
	assert.JSONEq(t, `{"applied":2}`, string(second.Update.Result))

	for _, bad := range []func(*StartSpec){
		func(s *StartSpec) { s.CronSchedule = "@every 1m" },
		func(s *StartSpec) { s.StartDelay = 1 },
		func(s *StartSpec) { s.Signal = &Signal{Name: "checkout"} },
	} {
		spec := addItem("cart", "", "c")
		bad(&spec)
		_, err := s.Start(ctx, spec)
		var invalid *InvalidSpecError
		require.ErrorAs(t, err, &invalid)
	}
	assert.Len(t, f.starts, 2, "an invalid spec reaches no Temporal call")
}

func TestKeyedUpdateWithStartAppliesTheUpdateOnce(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)

	first, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	assert.True(t, first.Created)
	assert.JSONEq(t, `{"applied":1}`, string(first.Update.Result))

	retry, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	assert.True(t, retry.Replayed)
	assert.True(t, retry.Created, "the replay says that the request it replays started the run")
	assert.Equal(t, first.RunID, retry.RunID)
	assert.Equal(t, first.Update.ID, retry.Update.ID)
	assert.JSONEq(t, `{"applied":1}`, string(retry.Update.Result), "the first update's result, read again")
	assert.Len(t, f.workflowStarts(), 1, "the retry reaches no start or update")
	assert.Len(t, f.current("cart").updates, 1)

	// After the run closed the retry still applies nothing: no new run is started for it.
	f.complete("cart")
	again, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	assert.Equal(t, first.RunID, again.RunID)
	assert.Len(t, f.runs["cart"], 1)

	_, err = s.Start(ctx, addItem("cart", "k", "b"))
	var reused *KeyReusedError
	require.ErrorAs(t, err, &reused, "the key with another body")
	assert.Len(t, f.workflowStarts(), 1)
}

func TestKeyedUpdateWithStartRejectedIsAnsweredFromTheRecord(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.rejectUpdates = true
	s := NewStarter(f, "queue", startTimeout)

	first, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	assert.True(t, first.Created, "the validator's rejection does not undo the start")
	require.NotNil(t, first.Update.Rejected)
	assert.Equal(t, "CartCheckedOut", first.Update.Rejected.Failure.Type)

	f.rejectUpdates = false
	retry, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	assert.True(t, retry.Replayed)
	require.NotNil(t, retry.Update.Rejected, "the retry is answered with the rejection, not tried again")
	assert.Equal(t, "CartCheckedOut", retry.Update.Rejected.Failure.Type)
	assert.Equal(t, 1, f.validations)
}

func TestKeyedUpdateWithStartCarriesOnForAClaimLeftOpen(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	f.dropFinish = true
	first, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	f.dropFinish = false
	rec, err := newRecord(withQueue(addItem("cart", "k", "a"), "queue"))
	require.NoError(t, err)
	f.age(rec.recordID(), s.claimLifetime+1)

	retry, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	assert.Equal(t, first.RunID, retry.RunID)
	assert.True(t, retry.Created, "the evidence says the dead request started the run")
	assert.True(t, retry.Replayed, "the answer is the dead request's")
	assert.JSONEq(t, `{"applied":1}`, string(retry.Update.Result), "Temporal attaches the same update id to its outcome")
	assert.Len(t, f.current("cart").updates, 1)
}

func TestKeyedUpdateWithStartCarryingOnAfterTheRunClosedStartsNothing(t *testing.T) {
	for _, rejectedFirst := range []bool{false, true} {
		ctx := context.Background()
		f := newFake()
		s := NewStarter(f, "queue", startTimeout)
		f.dropFinish, f.rejectUpdates = true, rejectedFirst
		first, err := s.Start(ctx, addItem("cart", "k", "a"))
		require.NoError(t, err)
		f.dropFinish, f.rejectUpdates = false, false
		f.complete("cart")
		rec, err := newRecord(withQueue(addItem("cart", "k", "a"), "queue"))
		require.NoError(t, err)
		f.age(rec.recordID(), s.claimLifetime+1)

		retry, err := s.Start(ctx, addItem("cart", "k", "a"))
		require.NoError(t, err)
		assert.Len(t, f.runs["cart"], 1, "no second run for the dead request's update")
		assert.Equal(t, first.RunID, retry.RunID)
		assert.True(t, retry.Replayed)
		if rejectedFirst {
			var closed *ClosedError
			require.ErrorAs(t, retry.Update.Err, &closed, "Temporal kept no outcome: the run closed without the update")
		} else {
			assert.JSONEq(t, `{"applied":1}`, string(retry.Update.Result))
		}
	}
}

func withQueue(spec StartSpec, queue string) StartSpec {
	spec.TaskQueue = queue
	return spec
}

func TestUpdateWithStartWithoutAnAnswerNamesItsUpdate(t *testing.T) {
	f := newFake()
	f.updateStartErr = serviceerror.NewDeadlineExceeded("no answer")
	svc := New(f, Options{TaskQueue: "queue", CallTimeout: time.Second})
	for _, key := range []string{"", "k"} {
		_, err := svc.UpdateWithStart(context.Background(), addItem("cart", key, "a"))
		var unknown *UpdateUnknownError
		require.ErrorAs(t, err, &unknown, "key %q", key)
		assert.Equal(t, "cart", unknown.WorkflowID)
		assert.NotEmpty(t, unknown.UpdateID, "the update id a retry can attach with")
	}
}

func TestKeyedReplayOfAnUpdateTheRunningRunDoesNotKnow(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	first, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	// As when the first request's time ran out with its update only admitted, and the update was
	// lost after: the record names an update that the running run does not know.
	delete(f.current("cart").updates, first.Update.ID)

	retry, err := s.Start(ctx, addItem("cart", "k", "a"))
	require.NoError(t, err)
	var unknown *UpdateUnknownError
	require.ErrorAs(t, retry.Update.Err, &unknown, "not a closed run: it runs on")
	assert.Equal(t, first.Update.ID, unknown.UpdateID)
}

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

const startTimeout = 10 * time.Second

func transfer(id, key string) StartSpec {
	return StartSpec{WorkflowType: "MoneyTransfer", WorkflowID: id, Key: key,
		Input: json.RawMessage(`{"fromAccount":"alice","toAccount":"bob","amount":100,"referenceId":"r-1"}`)}
}

func approvalSignal(id, key string, conflict ConflictPolicy) StartSpec {
	return StartSpec{WorkflowType: "Approval", WorkflowID: id, Key: key, Conflict: conflict,
		Signal: &Signal{Name: "decision", Input: json.RawMessage(`{"approved":true}`)}}
}

func TestStartWithoutKey(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)

	first, err := s.Start(ctx, StartSpec{WorkflowType: "Sleep", WorkflowID: "w"})
	require.NoError(t, err)
	assert.True(t, first.Created)
	assert.Equal(t, "queue", f.starts[0].Options.TaskQueue)
	assert.Len(t, f.starts, 1, "one Temporal call")

	_, err = s.Start(ctx, StartSpec{WorkflowType: "Sleep", WorkflowID: "w"})
	var taken *AlreadyStartedError
	require.ErrorAs(t, err, &taken)
	assert.Equal(t, first.RunID, taken.RunID)

	existing, err := s.Start(ctx, StartSpec{WorkflowType: "Sleep", WorkflowID: "w", Conflict: ConflictUseExisting})
	require.NoError(t, err)
	assert.Equal(t, Started{WorkflowID: "w", RunID: first.RunID}, ids(existing), "USE_EXISTING answers the running run in one call")
	assert.Len(t, f.starts, 3)

	_, err = s.Start(ctx, StartSpec{WorkflowType: "Approval", WorkflowID: "a", Conflict: ConflictFail, Signal: &Signal{Name: "decision"}})
	var invalid *InvalidSpecError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "idConflictPolicy", invalid.Field)
}

func TestKeyedStartRetriedAnswersTheFirstRun(t *testing.T) {
	for _, conflict := range []ConflictPolicy{ConflictDefault, ConflictUseExisting, ConflictTerminateExisting} {
		for _, closed := range []bool{false, true} {
			name := map[ConflictPolicy]string{ConflictDefault: "FAIL", ConflictUseExisting: "USE_EXISTING", ConflictTerminateExisting: "TERMINATE_EXISTING"}[conflict]
			if closed {
				name += " after the run closed"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				f := newFake()
				s := NewStarter(f, "queue", startTimeout)
				spec := transfer("transfer-9", "K")
				spec.Conflict = conflict
				first, err := s.Start(ctx, spec)
				require.NoError(t, err)
				require.True(t, first.Created)
				if closed {
					f.complete("transfer-9")
				}
				again, err := s.Start(ctx, spec)
				require.NoError(t, err)
				assert.Equal(t, Started{WorkflowID: "transfer-9", RunID: first.RunID, Replayed: true}, ids(again))
				assert.Len(t, f.runs["transfer-9"], 1, "no second run")
				assert.False(t, f.runs["transfer-9"][0].terminated)
			})
		}
	}
}

func TestKeyedStartWithAnotherBodyDoesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	first, err := s.Start(ctx, transfer("t", "K"))
	require.NoError(t, err)

	other := transfer("t", "K")
	other.Input = json.RawMessage(`{"amount":1}`)
	_, err = s.Start(ctx, other)
	var reused *KeyReusedError
	require.ErrorAs(t, err, &reused)
	assert.Equal(t, first.RunID, reused.RunID)

	// A signal-with-start under the key of a plain start: refused before the signal is sent.
	_, err = s.Start(ctx, approvalSignal("t", "K", ConflictDefault))
	require.ErrorAs(t, err, &reused)
	assert.Zero(t, f.runs["t"][0].signals, "the signal was not delivered")
	assert.Len(t, f.runs["t"], 1)
	assert.Len(t, f.workflowStarts(), 1, "nothing but the first start reached Temporal")
}

func TestKeyedSignalWithStart(t *testing.T) {
	ctx := context.Background()

	t.Run("TERMINATE_EXISTING retried does not end its own run", func(t *testing.T) {
		f := newFake()
		s := NewStarter(f, "queue", startTimeout)
		other, err := s.Start(ctx, StartSpec{WorkflowType: "Approval", WorkflowID: "po"})
		require.NoError(t, err)
		spec := approvalSignal("po", "K", ConflictTerminateExisting)
		first, err := s.Start(ctx, spec)
		require.NoError(t, err)
		assert.True(t, first.Created)
		assert.NotEqual(t, other.RunID, first.RunID)
		assert.True(t, f.runs["po"][0].terminated, "the run another request started is ended")
		for range 2 {
			again, err := s.Start(ctx, spec)
			require.NoError(t, err)
			assert.Equal(t, Started{WorkflowID: "po", RunID: first.RunID, Replayed: true}, ids(again))
		}
		assert.Len(t, f.runs["po"], 2)
		assert.False(t, f.runs["po"][1].terminated, "the key's own run keeps running")
		assert.Equal(t, 1, f.runs["po"][1].signals)
	})

	t.Run("a signal to a running run is delivered once, before and after it closes", func(t *testing.T) {
		f := newFake()
		s := NewStarter(f, "queue", startTimeout)
		running, err := s.Start(ctx, StartSpec{WorkflowType: "Approval", WorkflowID: "po"})
		require.NoError(t, err)
		spec := approvalSignal("po", "K", ConflictDefault)
		first, err := s.Start(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, Started{WorkflowID: "po", RunID: running.RunID}, ids(first), "200: the running run took the signal")

		again, err := s.Start(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, Started{WorkflowID: "po", RunID: running.RunID, Replayed: true}, ids(again))
		f.complete("po")
		again, err = s.Start(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, Started{WorkflowID: "po", RunID: running.RunID, Replayed: true}, ids(again))
		assert.Len(t, f.runs["po"], 1, "no run started after the signalled run closed")
		assert.Equal(t, 1, f.runs["po"][0].signals)
	})

	t.Run("a retry after the run it started closed", func(t *testing.T) {
		f := newFake()
		s := NewStarter(f, "queue", startTimeout)
		spec := approvalSignal("po", "K", ConflictDefault)
		first, err := s.Start(ctx, spec)
		require.NoError(t, err)
		f.complete("po")
		again, err := s.Start(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, Started{WorkflowID: "po", RunID: first.RunID, Replayed: true}, ids(again))
		assert.Len(t, f.runs["po"], 1)
	})
}

func TestKeyedStartAfterAnotherRunFollowed(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	spec := transfer("t", "K")
	first, err := s.Start(ctx, spec)
	require.NoError(t, err)
	f.complete("t")
	_, err = s.Start(ctx, StartSpec{WorkflowType: "MoneyTransfer", WorkflowID: "t"})
	require.NoError(t, err)
	f.complete("t")

	again, err := s.Start(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, Started{WorkflowID: "t", RunID: first.RunID, Replayed: true}, ids(again))
	assert.Len(t, f.runs["t"], 2)
}

func TestKeyedStartRacingItsTwin(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		spec     StartSpec
		existing bool // another request's run holds the id before both
	}{
		{"plain start on a new id", transfer("t", "K"), false},
		{"plain start after another run", transfer("t", "K"), true},
		{"TERMINATE_EXISTING over another run", func() StartSpec {
			s := transfer("t", "K")
			s.Conflict = ConflictTerminateExisting
			return s
		}(), true},
		{"signal-with-start on a new id", approvalSignal("t", "K", ConflictDefault), false},
		{"signal-with-start TERMINATE_EXISTING over another run", approvalSignal("t", "K", ConflictTerminateExisting), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			s := NewStarter(f, "queue", startTimeout)
			if tc.existing {
				_, err := s.Start(ctx, StartSpec{WorkflowType: tc.spec.WorkflowType, WorkflowID: "t"})
				require.NoError(t, err)
				if tc.spec.Conflict != ConflictTerminateExisting {
					f.complete("t")
				}
			}
			// The twin runs its whole start, and its run completes, between this request's
			// lookup and its start.
			var twin Started
			f.beforeStart = func() {
				var err error
				twin, err = s.Start(ctx, tc.spec)
				require.NoError(t, err)
				require.True(t, twin.Created)
				f.complete("t")
			}
			got, err := s.Start(ctx, tc.spec)
			require.NoError(t, err)
			assert.Equal(t, twin.RunID, got.RunID, "both answer the one run")
			assert.False(t, got.Created)
			runs := f.runs["t"]
			assert.Equal(t, twin.RunID, runs[len(runs)-1].runID, "no run after the twin's")
			assert.False(t, runs[len(runs)-1].terminated, "the twin's run was not ended")
			if tc.spec.Signal != nil {
				assert.Equal(t, 1, runs[len(runs)-1].signals, "the signal went once")
			}
		})
	}
}

func TestKeysAreScopedToTheirCaller(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	alice := StartSpec{WorkflowType: "Sleep", Key: "K", Caller: "apikey:alice"}
	bob := alice
	bob.Caller = "apikey:bob"
	a, err := s.Start(ctx, alice)
	require.NoError(t, err)
	b, err := s.Start(ctx, bob)
	require.NoError(t, err)
	assert.True(t, b.Created, "bob's key starts bob's own execution")
	assert.NotEqual(t, a.WorkflowID, b.WorkflowID)

	// With an explicit id, bob's key finds nothing of alice's: the id is simply taken.
	alice.WorkflowID, bob.WorkflowID = "shared", "shared"
	alice.Key, bob.Key = "K2", "K2"
	_, err = s.Start(ctx, alice)
	require.NoError(t, err)
	_, err = s.Start(ctx, bob)
	var taken *AlreadyStartedError
	require.ErrorAs(t, err, &taken)
}

func TestFingerprintIsOfTheRequestsMeaning(t *testing.T) {
	base := StartSpec{WorkflowType: "Echo", TaskQueue: "q", Key: "K", Input: json.RawMessage(`{"a":1,"b":[true],"c":0}`),
		ExecutionTimeout: 90 * time.Second}
	same := []StartSpec{
		func() StartSpec { s := base; s.Conflict = ConflictFail; return s }(),
		func() StartSpec {
			s := base
			s.Input = json.RawMessage(" {\"b\": [true], \"c\": 0, \"a\": 1} ")
			return s
		}(),
		func() StartSpec { s := base; s.Memo = map[string]json.RawMessage{}; return s }(),
		// A typed start re-encodes its decoded input, in which -0 is 0.
		func() StartSpec { s := base; s.Input = json.RawMessage(`{"a":1,"b":[true],"c":-0}`); return s }(),
	}
	want, err := newRecord(base)
	require.NoError(t, err)
	for _, s := range same {
		got, err := newRecord(s)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	noInput, err := newRecord(StartSpec{WorkflowType: "Echo", Key: "K"})
	require.NoError(t, err)
	nullInput, err := newRecord(StartSpec{WorkflowType: "Echo", Key: "K", Input: json.RawMessage("null")})
	require.NoError(t, err)
	assert.Equal(t, noInput, nullInput, "null input is no input")

	differ := []StartSpec{
		func() StartSpec { s := base; s.Input = json.RawMessage(`{"a":1.0,"b":[true],"c":0}`); return s }(),
		func() StartSpec { s := base; s.Conflict = ConflictUseExisting; return s }(),
		func() StartSpec { s := base; s.TaskQueue = "other"; return s }(),
		func() StartSpec { s := base; s.Caller = "apikey:bob"; return s }(),
	}
	for _, s := range differ {
		got, err := newRecord(s)
		require.NoError(t, err)
		assert.NotEqual(t, want, got, "%+v", s)
	}
}

// The fake answers a start by request id as the server does; this test keeps it honest.
func TestFakeAnswersARepeatedRequestIDWithItsRun(t *testing.T) {
	f := newFake()
	call := StartCall{RequestID: "r"}
	call.Options.ID = "w"
	first, err := f.Start(context.Background(), call)
	require.NoError(t, err)
	f.complete("w")
	again, err := f.Start(context.Background(), call)
	require.NoError(t, err)
	assert.Equal(t, StartAnswer{RunID: first.RunID, Started: true, Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED}, again)
}

func TestKeyedSignalToAnEntityThatContinuedAsNew(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	_, err := s.Start(ctx, StartSpec{WorkflowType: "Entity", WorkflowID: "e"})
	require.NoError(t, err)
	spec := StartSpec{WorkflowType: "Entity", WorkflowID: "e", Key: "K", Signal: &Signal{Name: "roll"}}
	first, err := s.Start(ctx, spec)
	require.NoError(t, err)
	assert.False(t, first.Created, "the running entity took the signal")

	// The entity continues as new: another run holds the id, without the signal's record.
	f.complete("e")
	_, err = s.Start(ctx, StartSpec{WorkflowType: "Entity", WorkflowID: "e"})
	require.NoError(t, err)

	again, err := s.Start(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, Started{WorkflowID: "e", RunID: first.RunID, Replayed: true}, ids(again))
	total := 0
	for _, r := range f.runs["e"] {
		total += r.signals
	}
	assert.Equal(t, 1, total, "the signal went once")
	assert.Len(t, f.runs["e"], 2)
}

func TestKeyedStartCarriesOnForAClaimLeftOpen(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	spec := transfer("t", "K")
	// A gateway claimed the key and died before it started anything.
	rec, err := newRecord(func() StartSpec { sp := spec; sp.TaskQueue = "queue"; return sp }())
	require.NoError(t, err)
	_, claimed, err := s.claim(ctx, "t", rec)
	require.NoError(t, err)
	require.True(t, claimed)

	// While the claimer may still be acting, another attempt does nothing but say so.
	_, err = s.Start(ctx, spec)
	var inUse *KeyInUseError
	require.ErrorAs(t, err, &inUse)
	assert.Empty(t, f.workflowStarts())

	// Once no request can still be acting on it, the next attempt carries on in its place.
	f.age(rec.recordID(), time.Minute)
	got, err := s.Start(ctx, spec)
	require.NoError(t, err)
	assert.True(t, got.Created, "the retry started the run in its place")
	again, err := s.Start(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, Started{WorkflowID: "t", RunID: got.RunID, Replayed: true}, ids(again), "and recorded it")
	assert.Len(t, f.runs["t"], 1)
}

func TestKeyedStartRecordsAConflict(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	other, err := s.Start(ctx, StartSpec{WorkflowType: "Sleep", WorkflowID: "w"})
	require.NoError(t, err)
	spec := StartSpec{WorkflowType: "Sleep", WorkflowID: "w", Key: "K"}
	for range 2 {
		_, err = s.Start(ctx, spec)
		var taken *AlreadyStartedError
		require.ErrorAs(t, err, &taken)
		assert.Equal(t, other.RunID, taken.RunID)
	}
	f.complete("w")
	_, err = s.Start(ctx, spec)
	var taken *AlreadyStartedError
	require.ErrorAs(t, err, &taken, "a key answers as it first did")
	assert.Len(t, f.workflowStarts(), 2, "the retry asked Temporal nothing more")
}

func TestKeyedStartCarryingOnFindsWhatTheClaimerDid(t *testing.T) {
	ctx := context.Background()
	for _, spec := range []StartSpec{transfer("t", "K"), approvalSignal("t", "K", ConflictTerminateExisting)} {
		f := newFake()
		s := NewStarter(f, "queue", startTimeout)
		if spec.Signal != nil {
			_, err := s.Start(ctx, StartSpec{WorkflowType: "Approval", WorkflowID: "t"})
			require.NoError(t, err)
		}
		// The claimer started (or signalled) and its gateway died before it closed the record.
		f.dropFinish = true
		first, err := s.Start(ctx, spec)
		require.NoError(t, err)
		f.dropFinish = false
		rec, err := newRecord(func() StartSpec { sp := spec; sp.TaskQueue = "queue"; return sp }())
		require.NoError(t, err)
		f.age(rec.recordID(), time.Minute)

		again, err := s.Start(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, Started{WorkflowID: "t", RunID: first.RunID, Replayed: true}, ids(again))
		runs := f.runs["t"]
		assert.False(t, runs[len(runs)-1].terminated, "the claimer's run was not ended")
		if spec.Signal != nil {
			assert.Equal(t, 1, runs[len(runs)-1].signals, "the signal went once")
		}
	}
}

func TestKeyedSignalWithStartWithoutIDRacingAPlainStartOfItsKey(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	plain := StartSpec{WorkflowType: "Approval", Key: "K"}
	withSignal := StartSpec{WorkflowType: "Approval", Key: "K", Signal: &Signal{Name: "decision"}}
	f.beforeStart = func() {
		_, err := s.Start(ctx, plain)
		require.NoError(t, err)
	}
	_, err := s.Start(ctx, withSignal)
	var reused *KeyReusedError
	require.ErrorAs(t, err, &reused)
	for _, runs := range f.runs {
		for _, r := range runs {
			assert.Zero(t, r.signals, "no signal went to the plain start's run")
		}
	}
}

// ids is what a start answered, leaving out the type and queue it names in every answer.
func ids(st Started) Started {
	st.WorkflowType, st.TaskQueue = "", ""
	return st
}

// A retry that cannot read what its key's record or the workflow holds does nothing: not being
// able to look is not finding that nothing was done.
func TestKeyedRetryThatCannotReadDoesNothing(t *testing.T) {
	ctx := context.Background()
	outage := serviceerror.NewUnavailable("passing outage")

	// The record is closed with its outcome, and reading it fails.
	f := newFake()
	s := NewStarter(f, "queue", startTimeout)
	spec := approvalSignal("e", "K", ConflictUseExisting)
	_, err := s.Start(ctx, StartSpec{WorkflowType: "Approval", WorkflowID: "e"})
	require.NoError(t, err)
	_, err = s.Start(ctx, spec)
	require.NoError(t, err)
	f.readErr = outage
	_, err = s.Start(ctx, spec)
	assert.ErrorIs(t, err, outage)
	assert.Equal(t, 1, f.current("e").signals, "the signal went once")

	// The claimer died before closing its record, and the workflow cannot be looked at.
	f = newFake()
	s = NewStarter(f, "queue", startTimeout)
	_, err = s.Start(ctx, StartSpec{WorkflowType: "Approval", WorkflowID: "t"})
	require.NoError(t, err)
	spec = approvalSignal("t", "K", ConflictTerminateExisting)
	f.dropFinish = true
	first, err := s.Start(ctx, spec)
	require.NoError(t, err)
	f.dropFinish = false
	rec, err := newRecord(func() StartSpec { sp := spec; sp.TaskQueue = "queue"; return sp }())
	require.NoError(t, err)
	f.age(rec.recordID(), time.Minute)
	f.readErr = outage
	_, err = s.Start(ctx, spec)
	assert.ErrorIs(t, err, outage)
	assert.Equal(t, first.RunID, f.current("t").runID, "the claimer's run still holds the id")
	assert.False(t, f.current("t").terminated)

	// Once it can look, it finds what the claimer did.
	f.readErr = nil
	again, err := s.Start(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, Started{WorkflowID: "t", RunID: first.RunID, Replayed: true}, ids(again))
}

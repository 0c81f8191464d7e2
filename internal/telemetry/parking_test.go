package telemetry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParkingRunsWhatWasRegisteredOnceAnswered(t *testing.T) {
	assert.Nil(t, ParkingOf(context.Background()))
	assert.False(t, ParkingOf(context.Background()).Parked(), "no parking is never parked")

	ctx, p := WithParking(context.Background())
	assert.Same(t, p, ParkingOf(ctx))
	assert.False(t, p.Parked())
	p.Park()
	assert.True(t, p.Parked())

	var got []string
	p.OnFinish(func(status int) { got = append(got, "inner") })
	p.OnFinish(func(status int) { got = append(got, "outer") })
	assert.Empty(t, got, "nothing runs before the answer")
	p.Finish(200)
	assert.Equal(t, []string{"inner", "outer"}, got, "innermost first, as when a handler returns")

	// A middleware that registers after the answer (it came before the handler returned) runs
	// at once, with the status sent.
	var late int
	p.OnFinish(func(status int) { late = status })
	assert.Equal(t, 200, late)
}

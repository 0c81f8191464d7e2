package handlers

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRateLimiterWaitIsExact(t *testing.T) {
	l := newRateLimiter(3, 3*time.Second, 10)
	a := netip.MustParseAddr("198.51.100.7")
	t0 := time.Unix(1_700_000_000, 0)

	for i := range 3 {
		require.Zero(t, l.allow(a, t0), "request %d is within the burst", i+1)
	}
	assert.Equal(t, time.Second, l.allow(a, t0), "one token a second")
	assert.Equal(t, 250*time.Millisecond, l.allow(a, t0.Add(750*time.Millisecond)))
	assert.Zero(t, l.allow(a, t0.Add(time.Second)))
	assert.Equal(t, time.Second, l.allow(a, t0.Add(time.Second)), "a refused request costs nothing")
	assert.Equal(t, time.Second, l.allow(a, t0.Add(time.Second)))
}

func TestRateLimiterForgetsIdleClients(t *testing.T) {
	l := newRateLimiter(1, time.Minute, 10)
	t0 := time.Unix(1_700_000_000, 0)
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")

	require.Zero(t, l.allow(a, t0))
	require.Zero(t, l.allow(b, t0.Add(30*time.Second)))
	require.Equal(t, 2, l.clients.Len())

	// A full window after a was last seen its bucket is full again: forgetting it changes nothing.
	require.Zero(t, l.allow(c, t0.Add(time.Minute)))
	assert.Equal(t, 2, l.clients.Len())
	assert.False(t, l.clients.Contains(a))
	assert.NotZero(t, l.allow(b, t0.Add(time.Minute)), "b is still within its window")
}

func TestRateLimiterIsBounded(t *testing.T) {
	l := newRateLimiter(1, time.Minute, 2)
	t0 := time.Unix(1_700_000_000, 0)
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")

	for _, addr := range []netip.Addr{a, b, c} {
		require.Zero(t, l.allow(addr, t0))
	}
	assert.Equal(t, 2, l.clients.Len())
	assert.False(t, l.clients.Contains(a), "the least recently seen client made room")
}

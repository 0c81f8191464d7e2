package telemetry

import (
	"context"
	"sync"
)

// Parking lets a handler answer its request after the handler has returned: a long wait hands
// its connection over (http.Hijacker) so that no goroutine and no buffers are held while it
// waits, and answers on it later. The middlewares that act once a request is answered (the
// access log, the request metrics) then register what they do with OnFinish instead of doing it
// when the handler returns, and the handler calls Finish once it has answered.
type Parking struct {
	mu       sync.Mutex
	parked   bool
	finished bool
	status   int
	finish   []func(status int)
}

type parkingKey struct{}

// WithParking offers parking to the handler of the request with ctx.
func WithParking(ctx context.Context) (context.Context, *Parking) {
	p := &Parking{}
	return context.WithValue(ctx, parkingKey{}, p), p
}

// ParkingOf is the parking offered to the request with ctx, or nil.
func ParkingOf(ctx context.Context) *Parking {
	p, _ := ctx.Value(parkingKey{}).(*Parking)
	return p
}

// Park records that the handler took the connection over and will answer later.
func (p *Parking) Park() {
	p.mu.Lock()
	p.parked = true
	p.mu.Unlock()
}

// Parked says whether the handler took the connection over; false for a nil Parking.
func (p *Parking) Parked() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parked
}

// OnFinish runs f with the status once the parked request is answered, at once if it has been.
func (p *Parking) OnFinish(f func(status int)) {
	p.mu.Lock()
	if !p.finished {
		p.finish = append(p.finish, f)
		p.mu.Unlock()
		return
	}
	status := p.status
	p.mu.Unlock()
	f(status)
}

// Finish runs what the middlewares registered, in the order they registered it (innermost
// first, as when a handler returns). Status 0 means the client left before an answer.
func (p *Parking) Finish(status int) {
	p.mu.Lock()
	p.finished, p.status = true, status
	fs := p.finish
	p.finish = nil
	p.mu.Unlock()
	for _, f := range fs {
		f(status)
	}
}

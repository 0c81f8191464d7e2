package handlers

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/temporalhttp/gateway/internal/auth"
)

// waitLimiter bounds the requests held open on running executions: waits (GET and POST with
// wait > 0) and event streams. Each holds a connection, or an HTTP/2 stream, and a goroutine for
// as long as its execution runs or its wait lasts, so without a bound one client could hold any
// number of them. There is a bound per caller, which answers 429, and one in total, which
// answers 503; both with Retry-After.
//
// A slot is taken in the handler where a wait or a stream begins, before anything is started,
// and given back when the handler returns.
type waitLimiter struct {
	perCaller, total int // 0 is no bound
	retryAfter       int // seconds

	mu   sync.Mutex
	held map[string]int // by caller
	all  int
}

func newWaitLimiter(perCaller, total int, retryAfter time.Duration) *waitLimiter {
	return &waitLimiter{perCaller: perCaller, total: total, retryAfter: max(1, int(retryAfter/time.Second)),
		held: map[string]int{}}
}

// waitSlot is one held wait or stream. release gives it back once, however often it is called;
// a nil slot holds nothing.
type waitSlot struct {
	l      *waitLimiter
	caller string
	once   sync.Once
}

// acquire takes a slot for the caller of ctx, or answers why it cannot.
func (l *waitLimiter) acquire(ctx context.Context) (*waitSlot, error) {
	caller := waitCaller(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perCaller > 0 && l.held[caller] >= l.perCaller {
		p := newProblem(http.StatusTooManyRequests, problemTooManyWaits, "Too many waits",
			fmt.Sprintf("This client already holds %d waits and event streams, as many as one client may; end one, or try again after Retry-After seconds.", l.perCaller))
		p.retryAfter = l.retryAfter
		return nil, p
	}
	if l.total > 0 && l.all >= l.total {
		p := newProblem(http.StatusServiceUnavailable, problemWaitsExhausted, "Gateway busy",
			"The gateway holds as many waits and event streams as it may; try again after Retry-After seconds.")
		p.retryAfter = l.retryAfter
		return nil, p
	}
	l.held[caller]++
	l.all++
	return &waitSlot{l: l, caller: caller}, nil
}

func (s *waitSlot) release() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		l := s.l
		l.mu.Lock()
		defer l.mu.Unlock()
		l.all--
		if l.held[s.caller]--; l.held[s.caller] <= 0 {
			delete(l.held, s.caller) // a caller that holds nothing costs no memory
		}
	})
}

// waitCaller is whom a wait is counted against: the authenticated principal, or, on a gateway
// without credentials (or for a public route), the client's address, an IPv6 client by its /64
// as the rate limit counts it.
func waitCaller(ctx context.Context) string {
	if p, ok := auth.FromContext(ctx); ok {
		return p.Name
	}
	return "ip:" + rateLimitKey(clientIP(ctx)).String()
}

// holdWait reads a request's `wait` parameter and, when it asks to wait, takes a slot for it; a
// request that does not wait gets a nil slot, which holds nothing.
func (s *Server) holdWait(ctx context.Context, param *string) (time.Duration, *waitSlot, error) {
	wait, err := s.waitParam(param)
	if err != nil || wait <= 0 {
		return 0, nil, err
	}
	slot, err := s.waits.acquire(ctx)
	return wait, slot, err
}

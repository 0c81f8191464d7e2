package handlers

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"

	"github.com/temporalhttp/gateway/internal/telemetry"
)

// maxRateLimitedClients bounds the memory of the rate limit: about 100 bytes per client. When
// more clients than this are active within one window, the least recently seen one starts over
// with a full allowance; a caller who controls that many addresses is beyond what a per-client
// limit can stop anyway.
const maxRateLimitedClients = 100_000

// limitRate answers 429 with Retry-After to a client that has used up its allowance of requests
// requests per window. requests 0 turns the limit off.
//
// Each client has a token bucket (golang.org/x/time/rate) holding up to requests tokens and
// refilled evenly over window, so Retry-After is exactly when the next request will be let
// through. go-chi/httprate was not used because its Retry-After is always the whole window,
// and its sliding-window estimate can still refuse a client that waited that long.
func limitRate(pw problemWriter, requests int, window time.Duration) func(http.Handler) http.Handler {
	if requests <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	limiter := newRateLimiter(requests, window, maxRateLimitedClients)
	detail := fmt.Sprintf("This client has made more than %d requests in %s; try again after Retry-After seconds.", requests, window)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if telemetry.ProbeRoutes[r.URL.Path] {
				next.ServeHTTP(w, r)
				return
			}
			if wait := limiter.allow(rateLimitKey(clientIP(r.Context())), time.Now()); wait > 0 {
				p := newProblem(http.StatusTooManyRequests, problemRateLimited, "Too many requests", detail)
				p.retryAfter = int(math.Ceil(wait.Seconds()))
				pw.writeError(w, r, p)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// rateLimitKey is whom a request is counted against. An IPv6 client is counted by its /64: one
// subscriber usually holds a whole /64 and could otherwise change address for every request.
func rateLimitKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.Addr()
	}
	return a
}

// rateLimiter keeps one token bucket per client in a map bounded by size.
type rateLimiter struct {
	every  rate.Limit
	burst  int
	window time.Duration

	mu      sync.Mutex
	clients *simplelru.LRU[netip.Addr, *clientBucket]
}

type clientBucket struct {
	tokens   *rate.Limiter
	lastSeen time.Time
}

func newRateLimiter(requests int, window time.Duration, size int) *rateLimiter {
	clients, _ := simplelru.NewLRU[netip.Addr, *clientBucket](size, nil) // fails only for size < 1
	return &rateLimiter{
		every:   rate.Limit(float64(requests) / window.Seconds()),
		burst:   requests,
		window:  window,
		clients: clients,
	}
}

// allow takes a token from key's bucket at now, or says how long until there is one.
func (l *rateLimiter) allow(key netip.Addr, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	b, ok := l.clients.Get(key)
	if !ok {
		b = &clientBucket{tokens: rate.NewLimiter(l.every, l.burst)}
		l.clients.Add(key, b)
	}
	b.lastSeen = now
	if b.tokens.AllowN(now, 1) {
		return 0
	}
	missing := 1 - b.tokens.TokensAt(now)
	// At least a nanosecond: a refused request must never read as an allowed one.
	return max(time.Nanosecond, time.Duration(missing/float64(l.every)*float64(time.Second)))
}

// expire forgets clients not seen for a whole window: their buckets are full again, the same as
// a new client's, so forgetting them changes nothing but the memory held. The least recently
// seen client is the oldest in the LRU, so this stops at the first one still active.
func (l *rateLimiter) expire(now time.Time) {
	for {
		_, b, ok := l.clients.GetOldest()
		if !ok || now.Sub(b.lastSeen) < l.window {
			return
		}
		l.clients.RemoveOldest()
	}
}

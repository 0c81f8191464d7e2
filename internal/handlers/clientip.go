package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
)

type clientIPKey struct{}

// clientIP returns the address of the client that made the request, as withClientIP found it;
// the zero Addr when it is unknown.
func clientIP(ctx context.Context) netip.Addr {
	a, _ := ctx.Value(clientIPKey{}).(netip.Addr)
	return a
}

// withClientIP finds out, once per request, which client sent it, for the rate limit and the
// access log.
func withClientIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := context.WithValue(r.Context(), clientIPKey{}, clientAddr(r, trusted))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// clientAddr is the connection's peer address unless that peer is a trusted proxy. Only then is
// X-Forwarded-For believed, and only as far as trusted proxies wrote it: each proxy appends the
// address it received the request from, so the list is walked from the right, over trusted hops,
// to the first address that no trusted proxy owns. Whatever is left of that entry was written by
// the client itself and may be forged. A malformed entry ends the walk at the last address known
// to be real, which keeps a client behind the proxy from escaping its own limit.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := peer.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return addr
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			return addr
		}
		addr = hop
		if !isTrusted(addr, trusted) {
			return addr
		}
	}
	return addr
}

// forwardedFor lists the entries of every X-Forwarded-For header in order: a proxy may append a
// header line of its own instead of extending the existing one.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with a port as some
// proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

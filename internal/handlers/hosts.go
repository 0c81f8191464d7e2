package handlers

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
)

// guardHosts answers 421 to a request addressed to a Host name the gateway does not serve, when
// restrict is set: only loopback names (localhost, 127.0.0.1, [::1], any port) and those in
// allowed are served.
//
// It is the defence against DNS rebinding. A page of http://attacker.example:8080 whose name the
// attacker then points at 127.0.0.1 reaches a gateway on loopback as its own origin: CORS does
// not apply, the Content-Type rule does not stop a same-origin request, and an open gateway has
// no credential that would. Yet the browser still names the attacker's host in Host, and a
// loopback name is never that. A gateway with credentials needs no such check, but an operator
// may list its names anyway.
//
// Public routes (health, readiness, metrics, the contract and its page) are answered under any
// Host: a gateway with credentials serves them to anyone too, and probes address the gateway by
// whatever name or address their platform gives it.
func guardHosts(pw problemWriter, restrict bool, allowed []string, rules map[string]routeAccess, routes chi.Routes) func(http.Handler) http.Handler {
	if !restrict {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name := hostName(r.Host)
			if loopbackName(name) || slices.Contains(allowed, name) {
				next.ServeHTTP(w, r)
				return
			}
			pattern := routes.Find(chi.NewRouteContext(), r.Method, routePath(r))
			if access, ok := rules[r.Method+" "+pattern]; ok && access.public {
				next.ServeHTTP(w, r)
				return
			}
			pw.writeError(w, r, newProblem(http.StatusMisdirectedRequest, problemMisdirected, "Misdirected request",
				"This gateway answers only requests addressed to localhost, 127.0.0.1, [::1] or a host name it is configured to serve (GATEWAY_ALLOWED_HOSTS)."))
		})
	}
}

// hostName is the name a Host header gives: without its port or IPv6 brackets, in lower case,
// and without the trailing dot of a fully qualified name. An IP address is in its canonical form,
// as GATEWAY_ALLOWED_HOSTS holds it (config's hosts): [fe80:0::1] and [FE80::1] are fe80::1.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String()
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// loopbackName says whether a browser resolves name to this machine by itself, without asking
// DNS: an attacker can point a name of theirs at 127.0.0.1, but cannot make a browser send these.
func loopbackName(name string) bool {
	if name == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(name)
	return err == nil && a.Unmap().IsLoopback()
}

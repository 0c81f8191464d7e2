package config

import (
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Guard is how the gateway protects itself and the browsers that call it: which web origins may
// call it, how many requests one client may make, how long a connection may take, and which
// security headers it sends.
type Guard struct {
	// CORSAllowedOrigins are the web origins whose pages may call the API from a browser
	// (GATEWAY_CORS_ALLOWED_ORIGINS): exact origins such as https://app.example.com, subdomain
	// patterns such as https://*.example.com, or * alone for any origin. Empty turns CORS off.
	CORSAllowedOrigins []string
	// CORSMaxAge is how long a browser may reuse a preflight answer (GATEWAY_CORS_MAX_AGE).
	CORSMaxAge time.Duration
	// RateLimitRequests is how many requests one client may make per RateLimitWindow
	// (GATEWAY_RATE_LIMIT_REQUESTS); 0 turns the limit off.
	RateLimitRequests int
	// RateLimitWindow is the period of RateLimitRequests (GATEWAY_RATE_LIMIT_WINDOW).
	RateLimitWindow time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For is believed (GATEWAY_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// ReadHeaderTimeout bounds how long a client may take to send the request headers
	// (GATEWAY_READ_HEADER_TIMEOUT).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds how long a client may take to send the whole request, body included
	// (GATEWAY_READ_TIMEOUT).
	ReadTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its next request
	// (GATEWAY_IDLE_TIMEOUT).
	IdleTimeout time.Duration
	// HSTS sends Strict-Transport-Security (GATEWAY_HSTS). Off by default: the gateway usually
	// speaks plain HTTP behind a TLS-terminating proxy, which is the better place for it.
	HSTS bool
	// AllowedHosts are the host names, besides the loopback ones, that API requests may be
	// addressed to (GATEWAY_ALLOWED_HOSTS): lower case, without port or brackets; ["*"] for any.
	// See Gateway.HostsRestricted for when they apply.
	AllowedHosts []string
}

func (r *reader) guard() Guard {
	g := Guard{
		CORSAllowedOrigins: r.origins("GATEWAY_CORS_ALLOWED_ORIGINS"),
		CORSMaxAge:         r.duration("GATEWAY_CORS_MAX_AGE", 10*time.Minute),
		RateLimitWindow:    r.duration("GATEWAY_RATE_LIMIT_WINDOW", time.Minute),
		TrustedProxies:     r.prefixes("GATEWAY_TRUSTED_PROXIES"),
		ReadHeaderTimeout:  r.duration("GATEWAY_READ_HEADER_TIMEOUT", 5*time.Second),
		ReadTimeout:        r.duration("GATEWAY_READ_TIMEOUT", 30*time.Second),
		IdleTimeout:        r.duration("GATEWAY_IDLE_TIMEOUT", 120*time.Second),
		HSTS:               r.boolean("GATEWAY_HSTS", false),
		AllowedHosts:       r.hosts("GATEWAY_ALLOWED_HOSTS"),
	}
	requests := r.integer("GATEWAY_RATE_LIMIT_REQUESTS", 0)
	if requests < 0 || requests > 1_000_000_000 {
		r.fail("GATEWAY_RATE_LIMIT_REQUESTS", "must be 0 (off) or a positive number of requests")
	}
	g.RateLimitRequests = int(requests)
	if g.CORSMaxAge < 0 {
		r.fail("GATEWAY_CORS_MAX_AGE", "must not be negative")
	}
	r.positive("GATEWAY_RATE_LIMIT_WINDOW", g.RateLimitWindow)
	r.positive("GATEWAY_READ_HEADER_TIMEOUT", g.ReadHeaderTimeout)
	r.positive("GATEWAY_READ_TIMEOUT", g.ReadTimeout)
	r.positive("GATEWAY_IDLE_TIMEOUT", g.IdleTimeout)
	if g.ReadTimeout < g.ReadHeaderTimeout {
		r.fail("GATEWAY_READ_TIMEOUT", "must not be shorter than GATEWAY_READ_HEADER_TIMEOUT (the headers are part of the request)")
	}
	return g
}

// origins reads a comma-separated list of web origins. Each must be exactly what a browser sends
// in its Origin header (scheme://host[:port], no path): an entry with a path or a trailing slash
// would never match, and an unanchored wildcard such as https://*example.com would also admit
// https://evilexample.com, so both are refused rather than silently accepted.
func (r *reader) origins(name string) []string {
	list := commaSeparated(r.getenv(name))
	for _, o := range list {
		if o == "*" && len(list) > 1 {
			r.fail(name, "may be * (any origin) only on its own")
			return nil
		}
		if o != "*" && !validOrigin(o) {
			r.fail(name, "has "+strconv.Quote(o)+", which is not an origin such as https://app.example.com, http://localhost:3000 or https://*.example.com")
		}
	}
	return list
}

func validOrigin(o string) bool {
	scheme, hostport, ok := strings.Cut(o, "://")
	if !ok || (scheme != "http" && scheme != "https") || hostport == "" || strings.ContainsAny(hostport, "/?#@ ") {
		return false
	}
	host := hostport
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
		host = h
	} else if strings.Contains(strings.Trim(hostport, "[]"), ":") && !strings.HasPrefix(hostport, "[") {
		return false
	}
	// A wildcard stands for whole subdomain labels only: "*." at the start of the host.
	host = strings.TrimPrefix(host, "*.")
	return host != "" && !strings.Contains(host, "*") && host == strings.ToLower(host)
}

// hosts reads a comma-separated list of host names and IP addresses as a Host header names them,
// without a port (every port is served). A name with a port, scheme or path would never match,
// so it is refused rather than silently ignored.
func (r *reader) hosts(name string) []string {
	list := commaSeparated(r.getenv(name))
	var out []string
	for _, h := range list {
		if h == "*" {
			if len(list) > 1 {
				r.fail(name, "may be * (any host) only on its own")
				return nil
			}
			return []string{"*"}
		}
		if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil && a.Zone() == "" {
			out = append(out, a.String())
			continue
		}
		if !hostNamePattern.MatchString(h) {
			r.fail(name, "has "+strconv.Quote(h)+", which is not a host name or IP address without a port, such as gateway.example.com or 10.0.0.5")
			continue
		}
		out = append(out, strings.TrimSuffix(strings.ToLower(h), "."))
	}
	return out
}

// hostNamePattern is a DNS name: dot-separated labels of letters, digits and inner hyphens.
var hostNamePattern = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)

// prefixes reads a comma-separated list of IP addresses and CIDR ranges.
func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range commaSeparated(r.getenv(name)) {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		r.fail(name, "has "+strconv.Quote(s)+", which is neither an IP address nor a CIDR range such as 10.0.0.0/8")
	}
	return out
}

// commaSeparated splits a comma-separated setting, ignoring blanks around and between entries.
func commaSeparated(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

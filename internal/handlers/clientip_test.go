package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name         string
		remote       string
		forwardedFor []string
		want         string
	}{
		{"direct client", "198.51.100.7:40000", nil, "198.51.100.7"},
		{"untrusted peer's X-Forwarded-For is ignored", "198.51.100.7:40000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"untrusted peer naming a trusted proxy is ignored", "198.51.100.7:40000", []string{"203.0.113.9, 10.0.0.1"}, "198.51.100.7"},
		{"untrusted peer with a loopback claim is ignored", "198.51.100.7:40000", []string{"127.0.0.1"}, "198.51.100.7"},
		{"trusted proxy names the client", "10.1.2.3:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client's own entries in front are not believed", "10.1.2.3:5000", []string{"203.0.113.9, 127.0.0.1, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", "10.1.2.3:5000", []string{"198.51.100.7, 10.9.9.9, 10.8.8.8"}, "198.51.100.7"},
		{"entries over several header lines", "10.1.2.3:5000", []string{"203.0.113.9", "198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"every hop trusted: the farthest one", "10.1.2.3:5000", []string{"10.7.7.7, 10.8.8.8"}, "10.7.7.7"},
		{"trusted proxy without X-Forwarded-For", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"malformed entry stops at the last real address", "10.1.2.3:5000", []string{"198.51.100.7, unknown"}, "10.1.2.3"},
		{"malformed entry behind the client is never reached", "10.1.2.3:5000", []string{"garbage, 198.51.100.7"}, "198.51.100.7"},
		{"entry with a port", "10.1.2.3:5000", []string{"198.51.100.7:4711"}, "198.51.100.7"},
		{"IPv6 client behind a proxy", "10.1.2.3:5000", []string{"2001:db8:1::7"}, "2001:db8:1::7"},
		{"IPv6 proxy", "[2001:db8:ffff::1]:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"IPv4-mapped peer counts as IPv4", "[::ffff:10.1.2.3]:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"IPv4-mapped entry counts as IPv4", "10.1.2.3:5000", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"unreadable peer address", "pipe", nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/workflows", nil)
			req.RemoteAddr = tt.remote
			for _, f := range tt.forwardedFor {
				req.Header.Add("X-Forwarded-For", f)
			}
			assert.Equal(t, tt.want, clientAddr(req, proxies).String())
		})
	}
}

func TestClientAddrWithoutTrustedProxies(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/workflows", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	assert.Equal(t, "127.0.0.1", clientAddr(req, nil).String(), "no proxy is trusted unless configured, not even loopback")
}

package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGuardDefaults(t *testing.T) {
	cfg, err := LoadGateway(env(nil))
	require.NoError(t, err)
	assert.Equal(t, Guard{
		CORSMaxAge:        10 * time.Minute,
		RateLimitWindow:   time.Minute,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}, cfg.Guard, "CORS, the rate limit, proxies and HSTS are off unless configured")
}

func TestGuardReadsTheEnvironment(t *testing.T) {
	cfg, err := LoadGateway(env(map[string]string{
		"GATEWAY_CORS_ALLOWED_ORIGINS": " https://app.example.com, http://localhost:3000 ,https://*.example.org,http://[::1]:8080",
		"GATEWAY_CORS_MAX_AGE":         "1h",
		"GATEWAY_RATE_LIMIT_REQUESTS":  "100",
		"GATEWAY_RATE_LIMIT_WINDOW":    "10s",
		"GATEWAY_TRUSTED_PROXIES":      "10.0.0.0/8, 192.168.1.7,::1, ::ffff:172.16.0.1, 10.1.2.3/16",
		"GATEWAY_READ_HEADER_TIMEOUT":  "2s",
		"GATEWAY_READ_TIMEOUT":         "2s",
		"GATEWAY_IDLE_TIMEOUT":         "1m",
		"GATEWAY_HSTS":                 "true",
		"GATEWAY_ALLOWED_HOSTS":        "Gateway.Example.com, 10.0.0.5,[fd00::5], ::2, gw.internal.",
	}))
	require.NoError(t, err)
	assert.Equal(t, Guard{
		CORSAllowedOrigins: []string{"https://app.example.com", "http://localhost:3000", "https://*.example.org", "http://[::1]:8080"},
		CORSMaxAge:         time.Hour,
		RateLimitRequests:  100,
		RateLimitWindow:    10 * time.Second,
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("::1/128"),
			netip.MustParsePrefix("172.16.0.1/32"), netip.MustParsePrefix("10.1.0.0/16"),
		},
		ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout:       2 * time.Second,
		IdleTimeout:       time.Minute,
		HSTS:              true,
		AllowedHosts:      []string{"gateway.example.com", "10.0.0.5", "fd00::5", "::2", "gw.internal"},
	}, cfg.Guard)
}

func TestGuardAcceptsAnyOriginAlone(t *testing.T) {
	cfg, err := LoadGateway(env(map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "*",
		"GATEWAY_API_KEYS": "ci:" + hashOf("k") + ":read"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"*"}, cfg.Guard.CORSAllowedOrigins)
}

// Without credentials, any origin would let every web page drive the gateway.
func TestAnyOriginNeedsCredentials(t *testing.T) {
	_, err := LoadGateway(env(map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "*"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GATEWAY_CORS_ALLOWED_ORIGINS may not be * while no credentials are configured")
	_, err = LoadGateway(env(map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "http://localhost:3000"}))
	assert.NoError(t, err, "a listed origin is the operator's own page")
}

// TestHostsRestricted: an open gateway answers API requests for loopback names and the listed
// ones only; one with credentials for any name unless names are listed; * turns the check off.
func TestHostsRestricted(t *testing.T) {
	key := "ci:" + hashOf("k") + ":read"
	tests := []struct {
		name string
		vars map[string]string
		want bool
	}{
		{"open", nil, true},
		{"open on purpose beyond loopback", map[string]string{"GATEWAY_HTTP_ADDR": ":8080", "GATEWAY_ALLOW_UNAUTHENTICATED": "true"}, true},
		{"open with names", map[string]string{"GATEWAY_ALLOWED_HOSTS": "gateway.internal"}, true},
		{"open with any host", map[string]string{"GATEWAY_ALLOWED_HOSTS": "*"}, false},
		{"credentials", map[string]string{"GATEWAY_API_KEYS": key}, false},
		{"credentials with names", map[string]string{"GATEWAY_API_KEYS": key, "GATEWAY_ALLOWED_HOSTS": "gateway.example.com"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadGateway(env(tt.vars))
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.HostsRestricted())
		})
	}
}

func TestGuardRefusesInvalidSettings(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		problem string
	}{
		{"origin with a path", map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "https://app.example.com/"}, `GATEWAY_CORS_ALLOWED_ORIGINS has "https://app.example.com/"`},
		{"origin without a scheme", map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "app.example.com"}, `"app.example.com"`},
		{"origin of another scheme", map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "ftp://app.example.com"}, `"ftp://app.example.com"`},
		{"unanchored wildcard", map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "https://*example.com"}, `"https://*example.com"`},
		{"wildcard inside the host", map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "https://a.*.example.com"}, `"https://a.*.example.com"`},
		{"upper-case host, which browsers never send", map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "https://App.example.com"}, `"https://App.example.com"`},
		{"bad port", map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "http://localhost:99999"}, `"http://localhost:99999"`},
		{"any origin among others", map[string]string{"GATEWAY_CORS_ALLOWED_ORIGINS": "*,https://app.example.com"}, "GATEWAY_CORS_ALLOWED_ORIGINS may be * (any origin) only on its own"},
		{"negative max age", map[string]string{"GATEWAY_CORS_MAX_AGE": "-1s"}, "GATEWAY_CORS_MAX_AGE must not be negative"},
		{"negative rate limit", map[string]string{"GATEWAY_RATE_LIMIT_REQUESTS": "-1"}, "GATEWAY_RATE_LIMIT_REQUESTS must be 0"},
		{"rate limit not a number", map[string]string{"GATEWAY_RATE_LIMIT_REQUESTS": "lots"}, "GATEWAY_RATE_LIMIT_REQUESTS must be a whole number"},
		{"zero window", map[string]string{"GATEWAY_RATE_LIMIT_WINDOW": "0s"}, "GATEWAY_RATE_LIMIT_WINDOW must be positive"},
		{"proxy not an address", map[string]string{"GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, `GATEWAY_TRUSTED_PROXIES has "proxy.internal"`},
		{"zero read header timeout", map[string]string{"GATEWAY_READ_HEADER_TIMEOUT": "0s"}, "GATEWAY_READ_HEADER_TIMEOUT must be positive"},
		{"zero idle timeout", map[string]string{"GATEWAY_IDLE_TIMEOUT": "0s"}, "GATEWAY_IDLE_TIMEOUT must be positive"},
		{"read timeout below the header timeout", map[string]string{"GATEWAY_READ_HEADER_TIMEOUT": "10s", "GATEWAY_READ_TIMEOUT": "5s"}, "GATEWAY_READ_TIMEOUT must not be shorter than GATEWAY_READ_HEADER_TIMEOUT"},
		{"hsts not a boolean", map[string]string{"GATEWAY_HSTS": "yes please"}, "GATEWAY_HSTS must be true or false"},
		{"host with a port", map[string]string{"GATEWAY_ALLOWED_HOSTS": "gateway.example.com:8080"}, `GATEWAY_ALLOWED_HOSTS has "gateway.example.com:8080"`},
		{"host as a URL", map[string]string{"GATEWAY_ALLOWED_HOSTS": "https://gateway.example.com"}, `"https://gateway.example.com"`},
		{"host with a path", map[string]string{"GATEWAY_ALLOWED_HOSTS": "gateway.example.com/api"}, `"gateway.example.com/api"`},
		{"host with a wildcard", map[string]string{"GATEWAY_ALLOWED_HOSTS": "*.example.com"}, `"*.example.com"`},
		{"any host among others", map[string]string{"GATEWAY_ALLOWED_HOSTS": "gateway.example.com,*"}, "GATEWAY_ALLOWED_HOSTS may be * (any host) only on its own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadGateway(env(tt.vars))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.problem)
		})
	}
}

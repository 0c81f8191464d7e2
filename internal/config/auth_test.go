package config

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/auth/authtest"
)

func hashOf(key string) string {
	h := auth.HashAPIKey(key)
	return hex.EncodeToString(h[:])
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestOpenOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		open bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.2:8080", true},
		{"localhost:8080", true},
		{"[::1]:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.168.1.10:8080", false},
		{"gateway.internal:8080", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			cfg, err := LoadGateway(env(map[string]string{"GATEWAY_HTTP_ADDR": tc.addr}))
			if tc.open {
				require.NoError(t, err)
				assert.False(t, cfg.Auth.Enabled())
				return
			}
			require.Error(t, err)
			for _, want := range []string{"GATEWAY_HTTP_ADDR", tc.addr, "no credentials", "GATEWAY_ALLOW_UNAUTHENTICATED=true", "GATEWAY_API_KEYS"} {
				assert.Contains(t, err.Error(), want)
			}

			cfg, err = LoadGateway(env(map[string]string{"GATEWAY_HTTP_ADDR": tc.addr, "GATEWAY_ALLOW_UNAUTHENTICATED": "true"}))
			require.NoError(t, err, "open on purpose")
			assert.True(t, cfg.Auth.AllowUnauthenticated)
			assert.False(t, cfg.Auth.Enabled())

			cfg, err = LoadGateway(env(map[string]string{"GATEWAY_HTTP_ADDR": tc.addr, "GATEWAY_API_KEYS": "ci:" + hashOf("k") + ":read"}))
			require.NoError(t, err, "with credentials")
			assert.True(t, cfg.Auth.Enabled())
		})
	}
}

func TestAPIKeysFromTheEnvironmentAndAFile(t *testing.T) {
	file := writeFile(t, "keys", "# the deploy pipeline\n\n  deploy:"+hashOf("d")+":start  \n# ops\nops:"+hashOf("o")+":admin\n")
	cfg, err := LoadGateway(env(map[string]string{
		"GATEWAY_API_KEYS":      " ci:" + hashOf("c") + ":read+start , dash:" + hashOf("x") + ":read,",
		"GATEWAY_API_KEYS_FILE": file,
	}))
	require.NoError(t, err)
	var got []string
	for _, k := range cfg.Auth.APIKeys {
		got = append(got, k.Name+" "+auth.FormatScopes(k.Scopes))
	}
	assert.Equal(t, []string{"ci read+start", "dash read", "deploy start", "ops admin"}, got)
	assert.Equal(t, auth.HashAPIKey("o"), cfg.Auth.APIKeys[3].Hash)
	assert.Nil(t, cfg.Auth.JWT)
}

func TestBadAPIKeySettingsAreNamed(t *testing.T) {
	good := "ci:" + hashOf("c") + ":read"
	for _, tc := range []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"bad entry in the variable", map[string]string{"GATEWAY_API_KEYS": good + ",broken"},
			[]string{"GATEWAY_API_KEYS entry 2", "name:sha256hex:scopes"}},
		{"bad scope in the variable", map[string]string{"GATEWAY_API_KEYS": "ci:" + hashOf("c") + ":write"},
			[]string{"GATEWAY_API_KEYS entry 1", `"write"`}},
		{"bad line in the file", map[string]string{"GATEWAY_API_KEYS_FILE": writeFile(t, "k", "# c\n"+good+"\n\nops:abc:admin\n")},
			[]string{"GATEWAY_API_KEYS_FILE line 4", `key "ops"`, "64 hex digits"}},
		{"missing file", map[string]string{"GATEWAY_API_KEYS_FILE": "/nonexistent/keys"},
			[]string{"GATEWAY_API_KEYS_FILE cannot be read", "/nonexistent/keys"}},
		{"file without entries", map[string]string{"GATEWAY_API_KEYS_FILE": writeFile(t, "k", "# nothing yet\n\n")},
			[]string{"GATEWAY_API_KEYS_FILE", "holds no key entries"}},
		{"one name twice", map[string]string{"GATEWAY_API_KEYS": good, "GATEWAY_API_KEYS_FILE": writeFile(t, "k", "ci:"+hashOf("other")+":admin\n")},
			[]string{"GATEWAY_API_KEYS_FILE line 1", `"ci" is already used by GATEWAY_API_KEYS entry 1`}},
		{"one key twice", map[string]string{"GATEWAY_API_KEYS": good + ",ci2:" + hashOf("c") + ":admin"},
			[]string{"GATEWAY_API_KEYS entry 2", "same hash as GATEWAY_API_KEYS entry 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(env(tc.vars))
			require.Error(t, err)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}

	// Every bad setting is reported at once, beside the others.
	_, err := LoadGateway(env(map[string]string{"GATEWAY_API_KEYS": "a,b", "GATEWAY_MAX_WAIT": "0s"}))
	require.Error(t, err)
	for _, want := range []string{"entry 1", "entry 2", "GATEWAY_MAX_WAIT"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestJWTSettings(t *testing.T) {
	is := authtest.NewIssuer(t, "EdDSA", "k1")
	pemFile := writeFile(t, "key.pem", string(is.PublicPEM(t)))
	jwksFile := writeFile(t, "jwks.json", string(authtest.JWKS(t, is)))

	cfg, err := LoadGateway(env(map[string]string{
		"GATEWAY_HTTP_ADDR": ":8080", "GATEWAY_JWT_KEY_FILE": pemFile, "GATEWAY_JWT_AUDIENCE": "gw",
		"GATEWAY_JWT_ISSUER": "https://idp.example", "GATEWAY_JWT_SCOPE_PREFIX": "workflows:",
	}))
	require.NoError(t, err, "a JWT key is enough to listen on every interface")
	require.NotNil(t, cfg.Auth.JWT)
	assert.Equal(t, "gw", cfg.Auth.JWT.Audience)
	assert.Equal(t, "https://idp.example", cfg.Auth.JWT.Issuer)
	assert.Equal(t, "workflows:", cfg.Auth.JWT.ScopePrefix)
	assert.Equal(t, 1, cfg.Auth.JWT.Keys.Len())
	// The configuration verifies the issuer's tokens.
	claims := authtest.Claims("gw", "alice", "workflows:read")
	claims["iss"] = "https://idp.example"
	p, err := auth.New(nil, cfg.Auth.JWT).Authenticate(map[string][]string{"Authorization": {"Bearer " + is.Token(t, claims)}})
	require.NoError(t, err)
	assert.Equal(t, []auth.Scope{auth.ScopeRead}, p.Scopes)

	cfg, err = LoadGateway(env(map[string]string{"GATEWAY_JWT_JWKS_FILE": jwksFile, "GATEWAY_JWT_AUDIENCE": "gw"}))
	require.NoError(t, err)
	require.NotNil(t, cfg.Auth.JWT)
	assert.Equal(t, 1, cfg.Auth.JWT.Keys.Len())

	for _, tc := range []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"key file without audience", map[string]string{"GATEWAY_JWT_KEY_FILE": pemFile},
			[]string{"GATEWAY_JWT_AUDIENCE is required with GATEWAY_JWT_KEY_FILE"}},
		{"JWKS file without audience", map[string]string{"GATEWAY_JWT_JWKS_FILE": jwksFile},
			[]string{"GATEWAY_JWT_AUDIENCE is required with GATEWAY_JWT_JWKS_FILE"}},
		{"audience without a key file", map[string]string{"GATEWAY_JWT_AUDIENCE": "gw", "GATEWAY_JWT_ISSUER": "x"},
			[]string{"GATEWAY_JWT_AUDIENCE is set, but neither", "GATEWAY_JWT_ISSUER is set"}},
		{"both key files", map[string]string{"GATEWAY_JWT_KEY_FILE": pemFile, "GATEWAY_JWT_JWKS_FILE": jwksFile, "GATEWAY_JWT_AUDIENCE": "gw"},
			[]string{"GATEWAY_JWT_JWKS_FILE cannot be combined with GATEWAY_JWT_KEY_FILE"}},
		{"missing key file", map[string]string{"GATEWAY_JWT_KEY_FILE": "/nonexistent/key.pem", "GATEWAY_JWT_AUDIENCE": "gw"},
			[]string{"GATEWAY_JWT_KEY_FILE cannot be read"}},
		{"private key", map[string]string{"GATEWAY_JWT_KEY_FILE": writeFile(t, "p.pem", string(is.PrivatePEM(t))), "GATEWAY_JWT_AUDIENCE": "gw"},
			[]string{"GATEWAY_JWT_KEY_FILE", "private key"}},
		{"a JWKS in the PEM variable", map[string]string{"GATEWAY_JWT_KEY_FILE": jwksFile, "GATEWAY_JWT_AUDIENCE": "gw"},
			[]string{"GATEWAY_JWT_KEY_FILE", "no PEM public key"}},
		{"a PEM in the JWKS variable", map[string]string{"GATEWAY_JWT_JWKS_FILE": pemFile, "GATEWAY_JWT_AUDIENCE": "gw"},
			[]string{"GATEWAY_JWT_JWKS_FILE", "JWK Set"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(env(tc.vars))
			require.Error(t, err)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.False(t, strings.Contains(err.Error(), "BEGIN"), "key material is never echoed")
		})
	}
}

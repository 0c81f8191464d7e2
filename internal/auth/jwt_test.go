package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/auth/authtest"
)

const audience = "temporal-http-gateway"

func pemKeys(t *testing.T, issuers ...*authtest.Issuer) VerificationKeys {
	t.Helper()
	var data []byte
	for _, i := range issuers {
		data = append(data, i.PublicPEM(t)...)
	}
	keys, err := ParsePEMKeys(data)
	require.NoError(t, err)
	return keys
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func TestBearerTokens(t *testing.T) {
	rs := authtest.NewIssuer(t, "RS256", "")
	es := authtest.NewIssuer(t, "ES256", "")
	ed := authtest.NewIssuer(t, "EdDSA", "")
	stranger := authtest.NewIssuer(t, "ES256", "")
	a := New(nil, &JWTConfig{Keys: pemKeys(t, rs, es, ed), Audience: audience, Issuer: "https://idp.example"})

	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := authtest.Claims(audience, "alice", "read start")
		c["iss"] = "https://idp.example"
		if edit != nil {
			edit(c)
		}
		return c
	}
	past := time.Now().Add(-time.Hour).Unix()
	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	// The classic algorithm confusion: HS256 "signed" with the public key as the HMAC secret.
	confused, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString(rs.PublicPEM(t))
	require.NoError(t, err)

	for _, tc := range []struct {
		name  string
		token string
		want  string // a fragment of the error; empty: accepted
	}{
		{"RS256", rs.Token(t, claims(nil)), ""},
		{"ES256", es.Token(t, claims(nil)), ""},
		{"EdDSA", ed.Token(t, claims(nil)), ""},
		{"audience among several", rs.Token(t, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", audience} })), ""},
		{"expired a minute ago, beyond the leeway", rs.Token(t, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), "expired"},
		{"expired within the leeway", rs.Token(t, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Second).Unix() })), ""},
		{"expired long ago", rs.Token(t, claims(func(c jwt.MapClaims) { c["exp"] = past })), "expired"},
		{"no exp", rs.Token(t, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "exp"},
		{"not yet valid", rs.Token(t, claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })), "not valid yet"},
		{"wrong audience", rs.Token(t, claims(func(c jwt.MapClaims) { c["aud"] = "another-service" })), "aud"},
		{"no audience", rs.Token(t, claims(func(c jwt.MapClaims) { delete(c, "aud") })), "aud"},
		{"wrong issuer", rs.Token(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })), "iss"},
		{"no issuer", rs.Token(t, claims(func(c jwt.MapClaims) { delete(c, "iss") })), "iss"},
		{"signed by an unknown key", stranger.Token(t, claims(nil)), "signature"},
		{"alg none", unsigned, "signing method none is invalid"},
		{"HS256 with the public key as secret", confused, "signing method HS256 is invalid"},
		{"tampered payload", tamper(t, rs.Token(t, claims(nil))), "signature"},
		{"garbage", "not.a.jwt", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Authenticate(bearer(tc.token))
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, Principal{Name: "jwt:alice", Scopes: []Scope{ScopeRead, ScopeStart}}, p)
				return
			}
			require.ErrorIs(t, err, ErrInvalidCredentials)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// tamper grants the token admin without re-signing it.
func tamper(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	c := authtest.Claims(audience, "alice", "admin")
	c["iss"] = "https://idp.example"
	forged, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SigningString()
	require.NoError(t, err)
	return strings.Split(forged, ".")[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
}

// A symmetric key must never verify a token, even if one reached the verifier: the algorithm
// list admits public-key algorithms only.
func TestHMACTokensAreRefusedWhateverTheKey(t *testing.T) {
	secret := []byte("a shared secret that an HS256 token is signed with")
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, authtest.Claims(audience, "mallory", "admin")).SignedString(secret)
	require.NoError(t, err)
	v := newJWTVerifier(JWTConfig{
		Keys:     VerificationKeys{keyfunc: func(*jwt.Token) (any, error) { return secret, nil }, count: 1},
		Audience: audience,
	})
	_, err = v.verify(token)
	require.Error(t, err)
	assert.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid)
}

func TestTokenScopes(t *testing.T) {
	is := authtest.NewIssuer(t, "ES256", "")
	for _, tc := range []struct {
		name   string
		prefix string
		claims map[string]any
		want   []Scope
	}{
		{"scope string", "", map[string]any{"scope": "read start"}, []Scope{ScopeRead, ScopeStart}},
		{"scp string", "", map[string]any{"scp": "admin"}, []Scope{ScopeAdmin}},
		{"schedule", "workflows:", map[string]any{"scope": "workflows:read workflows:schedule"}, []Scope{ScopeRead, ScopeSchedule}},
		{"scp array", "", map[string]any{"scp": []string{"read", "start"}}, []Scope{ScopeRead, ScopeStart}},
		{"scope and scp together", "", map[string]any{"scope": "read", "scp": []string{"read", "admin"}}, []Scope{ScopeRead, ScopeAdmin}},
		{"unknown scopes ignored", "", map[string]any{"scope": "openid profile read"}, []Scope{ScopeRead}},
		{"no scope", "", map[string]any{}, nil},
		{"prefix", "workflows:", map[string]any{"scope": "workflows:read openid read workflows:admin"}, []Scope{ScopeRead, ScopeAdmin}},
		{"prefix ignores bare names", "workflows:", map[string]any{"scp": []string{"start"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := New(nil, &JWTConfig{Keys: pemKeys(t, is), Audience: audience, ScopePrefix: tc.prefix})
			c := authtest.Claims(audience, "svc", "")
			for k, v := range tc.claims {
				c[k] = v
			}
			p, err := a.Authenticate(bearer(is.Token(t, c)))
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Scopes)
		})
	}

	a := New(nil, &JWTConfig{Keys: pemKeys(t, is), Audience: audience})
	c := authtest.Claims(audience, "svc", "read")
	c["scope"] = 42
	_, err := a.Authenticate(bearer(is.Token(t, c)))
	assert.ErrorIs(t, err, ErrInvalidCredentials, "a scope claim of the wrong type")
}

// TestTokenPrincipal: a token names its user (sub) or, without one, its client (client_id, or
// OIDC's azp); the two kinds of name never meet, since a user and a client of the same name are
// two callers, with their own Idempotency-Keys and their own share of waits. A token that names
// no one would make every such token one caller: it is refused.
func TestTokenPrincipal(t *testing.T) {
	is := authtest.NewIssuer(t, "ES256", "")
	a := New(nil, &JWTConfig{Keys: pemKeys(t, is), Audience: audience})
	for _, tc := range []struct {
		name   string
		claims map[string]any // over a token without sub
		want   string         // empty: refused
	}{
		{"a user", map[string]any{"sub": "batch-job"}, "jwt:batch-job"},
		{"a user, through a client", map[string]any{"sub": "alice", "client_id": "dashboard", "azp": "dashboard"}, "jwt:alice"},
		{"a client", map[string]any{"client_id": "batch-job"}, "jwt-client:batch-job"},
		{"a client by OIDC's azp", map[string]any{"azp": "batch-job"}, "jwt-client:batch-job"},
		{"a client by both", map[string]any{"client_id": "batch-job", "azp": "other"}, "jwt-client:batch-job"},
		{"a client whose id looks like a user's name", map[string]any{"client_id": "jwt:alice"}, "jwt-client:jwt:alice"},
		{"no one", map[string]any{}, ""},
		{"no one, in empty claims", map[string]any{"sub": "", "client_id": "", "azp": ""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := authtest.Claims(audience, "", "read")
			delete(c, "sub")
			for k, v := range tc.claims {
				c[k] = v
			}
			p, err := a.Authenticate(bearer(is.Token(t, c)))
			if tc.want == "" {
				require.ErrorIs(t, err, ErrInvalidCredentials)
				assert.Contains(t, err.Error(), "names no one", "the reason, for the log")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Name)
			assert.Equal(t, []Scope{ScopeRead}, p.Scopes)
		})
	}
}

func TestJWKS(t *testing.T) {
	one := authtest.NewIssuer(t, "RS256", "key-1")
	two := authtest.NewIssuer(t, "EdDSA", "key-2")
	keys, err := ParseJWKS(authtest.JWKS(t, one, two))
	require.NoError(t, err)
	assert.Equal(t, 2, keys.Len())
	a := New(nil, &JWTConfig{Keys: keys, Audience: audience})

	for _, is := range []*authtest.Issuer{one, two} {
		p, err := a.Authenticate(bearer(is.Token(t, authtest.Claims(audience, "bob", "read"))))
		require.NoError(t, err, is.KID)
		assert.Equal(t, "jwt:bob", p.Name)
	}

	// A token naming key-1 but signed by key-2's private key: the kid picks the key, which fails.
	liar := *two
	liar.KID = "key-1"
	_, err = a.Authenticate(bearer(liar.Token(t, authtest.Claims(audience, "bob", "read"))))
	assert.ErrorIs(t, err, ErrInvalidCredentials)

	unknown := authtest.NewIssuer(t, "RS256", "key-3")
	_, err = a.Authenticate(bearer(unknown.Token(t, authtest.Claims(audience, "bob", "read"))))
	assert.ErrorIs(t, err, ErrInvalidCredentials, "a kid the set does not hold")

	noKID := *one
	noKID.KID = ""
	_, err = a.Authenticate(bearer(noKID.Token(t, authtest.Claims(audience, "bob", "read"))))
	assert.NoError(t, err, "without a kid every key of the set is tried")

	for _, tc := range []struct{ name, jwks, want string }{
		{"not JSON", "{", "JWK Set"},
		{"empty", `{"keys":[]}`, "no keys"},
		{"symmetric key", `{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`, "symmetric"},
		{"private key", string(privateJWKS(t)), "private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJWKS([]byte(tc.jwks))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// privateJWKS is a JWK Set that (wrongly) publishes an Ed25519 private key.
func privateJWKS(t *testing.T) []byte {
	return []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"p",` +
		`"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",` +
		`"d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`)
}

func TestParsePEMKeys(t *testing.T) {
	is := authtest.NewIssuer(t, "ES256", "")
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	smallDER, err := x509.MarshalPKIXPublicKey(&small.PublicKey)
	require.NoError(t, err)

	for _, tc := range []struct{ name, pem, want string }{
		{"nothing", "", "no PEM public key"},
		{"not PEM", "ssh-ed25519 AAAAC3Nza", "no PEM public key"},
		{"private key", string(is.PrivatePEM(t)), "private key"},
		{"short RSA key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: smallDER})), "too short"},
		{"unknown block", "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", "not a public key"},
		{"second block bad", string(is.PublicPEM(t)) + string(is.PrivatePEM(t)), "PEM block 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePEMKeys([]byte(tc.pem))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestAuthenticateWantsExactlyOneCredential(t *testing.T) {
	key, k, err := NewAPIKey("ci", []Scope{ScopeRead})
	require.NoError(t, err)
	is := authtest.NewIssuer(t, "EdDSA", "")
	token := is.Token(t, authtest.Claims(audience, "alice", "read"))
	keysOnly := New([]APIKey{k}, nil)
	both := New([]APIKey{k}, &JWTConfig{Keys: pemKeys(t, is), Audience: audience})

	for _, tc := range []struct {
		name string
		a    *Authenticator
		h    http.Header
		want error
	}{
		{"nothing", both, http.Header{}, ErrNoCredentials},
		{"key and token", both, http.Header{"X-Api-Key": {key}, "Authorization": {"Bearer " + token}}, ErrInvalidCredentials},
		{"two keys", both, http.Header{"X-Api-Key": {key, key}}, ErrInvalidCredentials},
		{"empty key", both, http.Header{"X-Api-Key": {""}}, ErrInvalidCredentials},
		{"basic auth", both, http.Header{"Authorization": {"Basic YWxpY2U6c2VjcmV0"}}, ErrInvalidCredentials},
		{"bearer without token", both, http.Header{"Authorization": {"Bearer"}}, ErrInvalidCredentials},
		{"bearer when no JWT is configured", keysOnly, bearer(token), ErrInvalidCredentials},
		{"key", both, http.Header{"X-Api-Key": {key}}, nil},
		{"token, lower-case scheme", both, http.Header{"Authorization": {"bearer " + token}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.a.Authenticate(tc.h)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.True(t, errors.Is(err, tc.want), "got %v", err)
		})
	}
	assert.Nil(t, New(nil, nil), "nothing configured: no authenticator, the gateway is open")
}

// Package auth tells who sent a request to the gateway and what they may do. A request carries
// an API key (configured as its SHA-256 hash and compared in constant time) or a JWT bearer token
// signed by an identity provider (checked with that provider's public keys); either grants scopes.
package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The ways authentication fails. Both are answered 401; the wrapped text is for the log only.
var (
	// ErrNoCredentials means the request carries no credential at all.
	ErrNoCredentials = errors.New("no credentials")
	// ErrInvalidCredentials means a credential that is unknown, malformed, expired or meant for
	// another service.
	ErrInvalidCredentials = errors.New("invalid credentials")
)

// Authenticator checks the credentials of requests.
type Authenticator struct {
	keys []APIKey
	jwt  *jwtVerifier // nil: bearer tokens are not accepted
}

// New returns an authenticator accepting keys and, when jwtCfg is not nil, bearer tokens. With
// neither it returns nil, which the router takes to mean that the gateway runs open.
func New(keys []APIKey, jwtCfg *JWTConfig) *Authenticator {
	if len(keys) == 0 && jwtCfg == nil {
		return nil
	}
	a := &Authenticator{keys: keys}
	if jwtCfg != nil {
		a.jwt = newJWTVerifier(*jwtCfg)
	}
	return a
}

// Authenticate answers who sent a request with headers h. A request must carry exactly one
// credential: an X-API-Key header or an `Authorization: Bearer` token. With both, which one
// counts would be a guess, so the request is refused.
func (a *Authenticator) Authenticate(h http.Header) (Principal, error) {
	keys, authz := h.Values(APIKeyHeader), h.Values("Authorization")
	switch {
	case len(keys) == 0 && len(authz) == 0:
		return Principal{}, ErrNoCredentials
	case len(keys)+len(authz) > 1:
		return Principal{}, fmt.Errorf("%w: more than one credential", ErrInvalidCredentials)
	case len(keys) == 1:
		k, ok := lookupAPIKey(a.keys, keys[0])
		if !ok {
			return Principal{}, fmt.Errorf("%w: unknown API key", ErrInvalidCredentials)
		}
		return Principal{Name: "apikey:" + k.Name, Scopes: k.Scopes}, nil
	}
	scheme, token, ok := strings.Cut(authz[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, fmt.Errorf("%w: Authorization is not a Bearer token", ErrInvalidCredentials)
	}
	if a.jwt == nil {
		return Principal{}, fmt.Errorf("%w: bearer tokens are not accepted (no JWT key is configured)", ErrInvalidCredentials)
	}
	p, err := a.jwt.verify(strings.TrimSpace(token))
	if err != nil {
		return Principal{}, fmt.Errorf("%w: bearer token: %w", ErrInvalidCredentials, err)
	}
	return p, nil
}

// AcceptsAPIKeys says whether any API key is configured.
func (a *Authenticator) AcceptsAPIKeys() bool { return len(a.keys) > 0 }

// AcceptsBearer says whether bearer tokens are accepted.
func (a *Authenticator) AcceptsBearer() bool { return a.jwt != nil }

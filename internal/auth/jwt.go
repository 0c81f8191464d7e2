package auth

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// asymmetricMethods are the signature algorithms a token may use: public-key ones only. The
// gateway holds verification keys, never a secret that could also sign, so its configuration
// cannot mint tokens if it leaks; and refusing HS* closes the old attack of an HS256 token
// "signed" with the public key as its HMAC secret. `none` is never among them.
var asymmetricMethods = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}

// jwtLeeway absorbs clock skew between the token's issuer and the gateway, no more.
const jwtLeeway = 30 * time.Second

// minRSABits refuses keys that are too weak to trust (NIST retired RSA below 2048 bits).
const minRSABits = 2048

// VerificationKeys are the public keys that bearer tokens are checked against.
type VerificationKeys struct {
	keyfunc jwt.Keyfunc
	count   int
}

// Len says how many keys there are.
func (k VerificationKeys) Len() int { return k.count }

// ParsePEMKeys reads public keys from PEM: PUBLIC KEY (RSA, ECDSA or Ed25519), RSA PUBLIC KEY or
// CERTIFICATE blocks. Several blocks are several keys, so a key can be rotated by listing the new
// one beside the old. A private key is refused: the gateway must never hold one.
func ParsePEMKeys(data []byte) (VerificationKeys, error) {
	var keys []jwt.VerificationKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		key, err := pemPublicKey(block)
		if err != nil {
			return VerificationKeys{}, fmt.Errorf("PEM block %d (%s): %w", n, block.Type, err)
		}
		if err := checkPublicKey(key); err != nil {
			return VerificationKeys{}, fmt.Errorf("PEM block %d (%s): %w", n, block.Type, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return VerificationKeys{}, errors.New("no PEM public key found")
	}
	var set any = jwt.VerificationKeySet{Keys: keys}
	if len(keys) == 1 {
		set = keys[0]
	}
	return VerificationKeys{keyfunc: func(*jwt.Token) (any, error) { return set, nil }, count: len(keys)}, nil
}

func pemPublicKey(block *pem.Block) (jwt.VerificationKey, error) {
	switch {
	case block.Type == "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(block.Bytes)
	case block.Type == "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case block.Type == "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	case strings.Contains(block.Type, "PRIVATE KEY"):
		return nil, errors.New("is a private key; give the gateway the public key only")
	}
	return nil, errors.New("is not a public key or certificate")
}

// checkPublicKey accepts the key types of asymmetricMethods, public halves only.
func checkPublicKey(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits is too short (at least %d)", k.N.BitLen(), minRSABits)
		}
		return nil
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return nil
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return errors.New("is a private key; give the gateway the public key only")
	case []byte:
		return errors.New("is a symmetric key; only public keys (RSA, ECDSA, Ed25519) are accepted")
	}
	return fmt.Errorf("key type %T is not RSA, ECDSA or Ed25519", key)
}

// ParseJWKS reads public keys from a JWK Set document, as an identity provider publishes at its
// jwks_uri. It is read from bytes, never fetched: the gateway makes no network calls for auth.
// Tokens whose header names a `kid` are checked against that key only.
func ParseJWKS(data []byte) (VerificationKeys, error) {
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(data))
	if err != nil {
		return VerificationKeys{}, fmt.Errorf("read JWK Set: %w", err)
	}
	jwks, err := kf.Storage().KeyReadAll(context.Background())
	if err != nil {
		return VerificationKeys{}, fmt.Errorf("read JWK Set: %w", err)
	}
	if len(jwks) == 0 {
		return VerificationKeys{}, errors.New("the JWK Set holds no keys")
	}
	for i, j := range jwks {
		if err := checkPublicKey(j.Key()); err != nil {
			return VerificationKeys{}, fmt.Errorf("key %d (kid %q): %w", i+1, j.Marshal().KID, err)
		}
	}
	return VerificationKeys{keyfunc: kf.Keyfunc, count: len(jwks)}, nil
}

// JWTConfig says how bearer tokens are verified.
type JWTConfig struct {
	Keys VerificationKeys
	// Audience must be one of the token's `aud`: a token minted for another service is refused.
	Audience string
	// Issuer, when set, must be the token's `iss`.
	Issuer string
	// ScopePrefix is what the identity provider puts before the gateway's scope names, such as
	// "workflows:" for "workflows:read". Scopes without it are ignored.
	ScopePrefix string
}

// The prefixes of a token's principal: its user (sub), or without one its client (client_id or
// OIDC's azp). Neither is a prefix of the other, nor of an API key's "apikey:".
const (
	subjectPrefix = "jwt:"
	clientPrefix  = "jwt-client:"
)

type jwtVerifier struct {
	parser *jwt.Parser
	keys   jwt.Keyfunc
	prefix string
}

func newJWTVerifier(cfg JWTConfig) *jwtVerifier {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(asymmetricMethods),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(jwtLeeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	return &jwtVerifier{parser: jwt.NewParser(opts...), keys: cfg.Keys.keyfunc, prefix: cfg.ScopePrefix}
}

// tokenClaims are the claims the gateway reads. Identity providers disagree on where scopes go:
// OAuth 2 puts a space-separated `scope` string (RFC 8693), others a `scp` string or array.
type tokenClaims struct {
	jwt.RegisteredClaims
	Scope    scopeList `json:"scope"`
	Scp      scopeList `json:"scp"`
	ClientID string    `json:"client_id"`
	Azp      string    `json:"azp"`
}

// scopeList is a claim given as a space-separated string or as an array of strings.
type scopeList []string

func (l *scopeList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = strings.Fields(s)
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return errors.New("scope claim is neither a string nor an array of strings")
	}
	*l = a
	return nil
}

// verify checks the token's signature, algorithm, expiry, audience and issuer, and answers who
// it names with which scopes.
func (v *jwtVerifier) verify(token string) (Principal, error) {
	var claims tokenClaims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.keys); err != nil {
		return Principal{}, err
	}
	// The principal is the caller whose Idempotency-Keys and share of waits are its own, so a
	// user and a client never share a name, even when a client's id is some user's sub.
	// Client-credentials tokens of some providers carry no subject, only the client's id.
	var p Principal
	switch client := cmp.Or(claims.ClientID, claims.Azp); {
	case claims.Subject != "":
		p.Name = subjectPrefix + claims.Subject
	case client != "":
		p.Name = clientPrefix + client
	default:
		// Every such token would be one caller, sharing its keys with every other.
		return Principal{}, errors.New("the token names no one: it has no sub, client_id or azp")
	}
	for _, s := range append(claims.Scope, claims.Scp...) {
		name, ok := strings.CutPrefix(s, v.prefix)
		if !ok {
			continue
		}
		if sc, ok := ParseScope(name); ok && !slices.Contains(p.Scopes, sc) {
			p.Scopes = append(p.Scopes, sc)
		}
	}
	return p, nil
}

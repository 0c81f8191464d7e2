// Package authtest mints the keys, tokens and key sets that tests of the gateway's authentication
// need: an identity provider in a few lines.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Issuer signs tokens with one private key, as an identity provider does.
type Issuer struct {
	// KID names the key in token headers and in the JWK Set; empty leaves it out.
	KID    string
	method jwt.SigningMethod
	key    crypto.Signer
}

// NewIssuer makes a fresh key for alg: RS256, ES256 or EdDSA.
func NewIssuer(t testing.TB, alg, kid string) *Issuer {
	t.Helper()
	var (
		key crypto.Signer
		err error
	)
	switch alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("authtest: unsupported algorithm %q", alg)
	}
	if err != nil {
		t.Fatalf("authtest: generate %s key: %v", alg, err)
	}
	return &Issuer{KID: kid, method: jwt.GetSigningMethod(alg), key: key}
}

// PublicPEM is the issuer's public key as a PEM PUBLIC KEY block.
func (i *Issuer) PublicPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(i.key.Public())
	if err != nil {
		t.Fatalf("authtest: marshal public key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// PrivatePEM is the issuer's private key as a PEM PRIVATE KEY block, which the gateway must refuse.
func (i *Issuer) PrivatePEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(i.key)
	if err != nil {
		t.Fatalf("authtest: marshal private key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// JWKS is a JWK Set document holding the public keys of issuers.
func JWKS(t testing.TB, issuers ...*Issuer) []byte {
	t.Helper()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, i := range issuers {
		jwk, err := jwkset.NewJWKFromKey(i.key.Public(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: i.KID, ALG: jwkset.ALG(i.method.Alg()), USE: jwkset.UseSig},
		})
		if err != nil {
			t.Fatalf("authtest: JWK of %s key: %v", i.method.Alg(), err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatalf("authtest: marshal JWK Set: %v", err)
	}
	return b
}

// Token signs claims, naming the issuer's KID in the header when it has one.
func (i *Issuer) Token(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(i.method, claims)
	if i.KID != "" {
		tok.Header["kid"] = i.KID
	}
	s, err := tok.SignedString(i.key)
	if err != nil {
		t.Fatalf("authtest: sign token: %v", err)
	}
	return s
}

// Claims are the claims of a token for audience aud and subject sub, valid for the next hour,
// with scope as the OAuth 2 `scope` string (omitted when empty).
func Claims(aud, sub, scope string) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"aud": aud, "sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if scope != "" {
		c["scope"] = scope
	}
	return c
}

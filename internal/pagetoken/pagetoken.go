// Package pagetoken wraps Temporal's page tokens for clients. A page token is Temporal's, behind a
// short checksum of the token and of the listing it pages through, as base64url: clients treat it
// as an opaque string and can put it in a query string as it is. The checksum is no secret; it
// turns away a token that a client made up, mangled or took from another listing before it
// reaches Temporal, which answers some such tokens with an error it does not call the caller's,
// or with an empty page as if the list had ended.
package pagetoken

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// ErrBad says that a page token is not one the listing handed out.
var ErrBad = errors.New("not a page token of this listing")

const sumSize = 8

func sum(scope string, token []byte) []byte {
	h := sha256.New()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write(token)
	return h.Sum(nil)[:sumSize]
}

// Encode wraps Temporal's token of the listing scope; none is "".
func Encode(scope string, token []byte) string {
	if len(token) == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(append(sum(scope, token), token...))
}

// Decode unwraps a token that Encode made for scope; "" is none, and anything else is ErrBad.
func Decode(scope, s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= sumSize {
		return nil, ErrBad
	}
	got, token := b[:sumSize], b[sumSize:]
	if !bytes.Equal(got, sum(scope, token)) {
		return nil, ErrBad
	}
	return token, nil
}

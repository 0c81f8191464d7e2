package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// APIKey is one configured key. Only the SHA-256 of the key is kept: a leaked configuration
// does not leak working keys, and since keys are 32 random bytes a plain hash suffices (there is
// nothing to guess that a slow hash would protect).
type APIKey struct {
	Name   string
	Hash   [sha256.Size]byte
	Scopes []Scope
}

// APIKeyHeader is the request header that carries an API key.
const APIKeyHeader = "X-API-Key"

// ParseAPIKeyEntry reads one configured key, `name:sha256hex:scope+scope`. Its errors never
// quote the hash field: an operator who pasted the key itself there must not find it in a log.
func ParseAPIKeyEntry(entry string) (APIKey, error) {
	parts := strings.Split(strings.TrimSpace(entry), ":")
	if len(parts) != 3 {
		return APIKey{}, errors.New("must be name:sha256hex:scopes, such as ci:<64 hex digits>:read+start")
	}
	name, hash, scopes := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
	if !validKeyName(name) {
		return APIKey{}, fmt.Errorf("name %q must be 1 to 64 letters, digits, '.', '_' or '-'", name)
	}
	b, err := hex.DecodeString(hash)
	if err != nil || len(b) != sha256.Size {
		return APIKey{}, fmt.Errorf("key %q: the hash must be 64 hex digits, the SHA-256 of the key (not the key itself)", name)
	}
	k := APIKey{Name: name}
	copy(k.Hash[:], b)
	if k.Scopes, err = ParseScopes(scopes); err != nil {
		return APIKey{}, fmt.Errorf("key %q: %w", name, err)
	}
	return k, nil
}

// Entry formats k the way ParseAPIKeyEntry reads it.
func (k APIKey) Entry() string {
	return k.Name + ":" + hex.EncodeToString(k.Hash[:]) + ":" + FormatScopes(k.Scopes)
}

func validKeyName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// HashAPIKey returns the SHA-256 of key, as stored in a key entry.
func HashAPIKey(key string) [sha256.Size]byte {
	return sha256.Sum256([]byte(key))
}

// NewAPIKey mints a key for name with scopes: 32 random bytes, base64url without padding (safe
// in a header, a shell and a URL), and the entry that configures it.
func NewAPIKey(name string, scopes []Scope) (key string, entry APIKey, err error) {
	if !validKeyName(name) {
		return "", APIKey{}, fmt.Errorf("name %q must be 1 to 64 letters, digits, '.', '_' or '-'", name)
	}
	if len(scopes) == 0 {
		return "", APIKey{}, errors.New("a key needs at least one scope")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", APIKey{}, fmt.Errorf("read random bytes: %w", err)
	}
	key = base64.RawURLEncoding.EncodeToString(b)
	return key, APIKey{Name: name, Hash: HashAPIKey(key), Scopes: scopes}, nil
}

// lookupAPIKey finds the entry whose hash is that of presented. It compares against every entry,
// each in constant time, and never stops early: how long it takes tells nothing about which
// entry matched, or how close a guess came.
func lookupAPIKey(keys []APIKey, presented string) (APIKey, bool) {
	sum := HashAPIKey(presented)
	found, index := 0, 0
	for i := range keys {
		eq := subtle.ConstantTimeCompare(keys[i].Hash[:], sum[:])
		index = subtle.ConstantTimeSelect(eq, i, index)
		found |= eq
	}
	if found == 0 {
		return APIKey{}, false
	}
	return keys[index], true
}

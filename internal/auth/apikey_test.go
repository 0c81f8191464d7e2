package auth

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAPIKeyEntry(t *testing.T) {
	hash := HashAPIKey("s3cret")
	hashHex := hex.EncodeToString(hash[:])

	k, err := ParseAPIKeyEntry(" ci:" + strings.ToUpper(hashHex) + ":read+start+read ")
	require.NoError(t, err)
	assert.Equal(t, APIKey{Name: "ci", Hash: hash, Scopes: []Scope{ScopeRead, ScopeStart}}, k)
	assert.Equal(t, "ci:"+hashHex+":read+start", k.Entry())

	for _, tc := range []struct{ name, entry, want string }{
		{"two fields", "ci:" + hashHex, "name:sha256hex:scopes"},
		{"four fields", "ci:" + hashHex + ":read:x", "name:sha256hex:scopes"},
		{"empty name", ":" + hashHex + ":read", "name"},
		{"name with a space", "c i:" + hashHex + ":read", "name"},
		{"the key instead of its hash", "ci:Zm9vYmFyYmF6cXV1eGZvb2JhcmJhenF1dXhmb28:read", "64 hex digits"},
		{"short hash", "ci:" + hashHex[:62] + ":read", "64 hex digits"},
		{"unknown scope", "ci:" + hashHex + ":read+write", `unknown scope "write"`},
		{"no scope", "ci:" + hashHex + ":", "unknown scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAPIKeyEntry(tc.entry)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			// The hash field is never echoed: it may be a key pasted in the wrong place.
			assert.NotContains(t, err.Error(), "Zm9vYmFy")
			assert.NotContains(t, err.Error(), hashHex[:62])
		})
	}
}

func TestLookupAPIKeyFindsTheMatchingEntryAmongMany(t *testing.T) {
	var keys []APIKey
	var plain []string
	for _, name := range []string{"a", "b", "c"} {
		key, k, err := NewAPIKey(name, []Scope{ScopeRead})
		require.NoError(t, err)
		keys, plain = append(keys, k), append(plain, key)
	}
	for i, key := range plain {
		got, ok := lookupAPIKey(keys, key)
		require.True(t, ok, "key %d", i)
		assert.Equal(t, keys[i].Name, got.Name, "the entry whose hash matches, whatever its position")
	}
	for _, wrong := range []string{"", plain[0][:len(plain[0])-1], strings.ToUpper(plain[1]), plain[2] + "x"} {
		_, ok := lookupAPIKey(keys, wrong)
		assert.False(t, ok, "%q", wrong)
	}
	_, ok := lookupAPIKey(nil, plain[0])
	assert.False(t, ok, "no entries match nothing")
}

func TestNewAPIKeyMintsAKeyItsEntryAccepts(t *testing.T) {
	key, k, err := NewAPIKey("deploy-bot", []Scope{ScopeStart})
	require.NoError(t, err)
	assert.Len(t, key, 43, "32 bytes, base64url without padding")
	assert.NotContains(t, k.Entry(), key, "the entry holds the hash, never the key")

	parsed, err := ParseAPIKeyEntry(k.Entry())
	require.NoError(t, err)
	p, err := New([]APIKey{parsed}, nil).Authenticate(http.Header{"X-Api-Key": {key}})
	require.NoError(t, err)
	assert.Equal(t, Principal{Name: "apikey:deploy-bot", Scopes: []Scope{ScopeStart}}, p)

	other, _, err := NewAPIKey("deploy-bot", []Scope{ScopeStart})
	require.NoError(t, err)
	assert.NotEqual(t, key, other, "every key is fresh")

	_, _, err = NewAPIKey("bad name", []Scope{ScopeRead})
	assert.Error(t, err)
	_, _, err = NewAPIKey("ok", nil)
	assert.Error(t, err)
}

func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		has                      []Scope
		read, start, schedule, a bool
	}{
		{nil, false, false, false, false},
		{[]Scope{ScopeRead}, true, false, false, false},
		{[]Scope{ScopeStart}, false, true, false, false},
		{[]Scope{ScopeSchedule}, false, false, true, false},
		{[]Scope{ScopeRead, ScopeStart}, true, true, false, false},
		{[]Scope{ScopeAdmin}, true, true, true, true},
	} {
		p := Principal{Scopes: tc.has}
		assert.Equal(t, tc.read, p.Allows(ScopeRead), "%v read", tc.has)
		assert.Equal(t, tc.start, p.Allows(ScopeStart), "%v start", tc.has)
		assert.Equal(t, tc.schedule, p.Allows(ScopeSchedule), "%v schedule", tc.has)
		assert.Equal(t, tc.a, p.Allows(ScopeAdmin), "%v admin", tc.has)
	}
	_, err := ParseScopes("read+")
	assert.Error(t, err)
	s, err := ParseScopes("read+schedule")
	require.NoError(t, err)
	assert.Equal(t, []Scope{ScopeRead, ScopeSchedule}, s)
	s, err = ParseScopes("admin")
	require.NoError(t, err)
	assert.Equal(t, []Scope{ScopeAdmin}, s)
}

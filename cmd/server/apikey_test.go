package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/auth"
)

func TestAPIKeyCommandMintsAKeyAndItsEntry(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"server", "apikey", "ci", "read+start"}, func(string) string { return "" }, &out, &out))

	m := regexp.MustCompile(`(?m)^key:   (\S+)\nentry: (\S+)$`).FindStringSubmatch(out.String())
	require.Len(t, m, 3, "output: %s", out.String())
	key, line := m[1], m[2]
	assert.Len(t, key, 43, "32 random bytes in base64url")
	assert.NotContains(t, line, key, "the entry holds the hash only")

	entry, err := auth.ParseAPIKeyEntry(line)
	require.NoError(t, err)
	assert.Equal(t, "ci", entry.Name)
	assert.Equal(t, []auth.Scope{auth.ScopeRead, auth.ScopeStart}, entry.Scopes)
	p, err := auth.New([]auth.APIKey{entry}, nil).Authenticate(http.Header{"X-Api-Key": {key}})
	require.NoError(t, err, "the printed entry accepts the printed key")
	assert.Equal(t, "apikey:ci", p.Name)
}

func TestAPIKeyCommandRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"ci"},
		{"ci", "read", "extra"},
		{"ci", "write"},
		{"ci", ""},
		{"bad name", "read"},
	} {
		var out bytes.Buffer
		err := runAPIKey(args, &out)
		require.Error(t, err, "%q", args)
		assert.Contains(t, err.Error(), "usage: server apikey")
		assert.Empty(t, out.String(), "no key is printed for a refused command")
	}
}

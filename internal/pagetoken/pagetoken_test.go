package pagetoken

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestATokenComesBackOnlyToItsListing(t *testing.T) {
	s := Encode("schedules", []byte("temporal's token"))
	got, err := Decode("schedules", s)
	require.NoError(t, err)
	assert.Equal(t, []byte("temporal's token"), got)

	none, err := Decode("schedules", "")
	require.NoError(t, err)
	assert.Nil(t, none)
	assert.Empty(t, Encode("schedules", nil))

	for _, bad := range []string{"AAAA", "eyJmb28iOjF9", "not base64!", s + "A", s[:len(s)-1]} {
		_, err := Decode("schedules", bad)
		assert.ErrorIs(t, err, ErrBad, "%q", bad)
	}
	_, err = Decode("workflows", s)
	assert.ErrorIs(t, err, ErrBad, "a token of another listing")
}

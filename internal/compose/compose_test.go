package compose

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInterpolate(t *testing.T) {
	env := map[string]string{"SET": "v", "EMPTY": ""}
	out, err := Interpolate("${SET} ${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${UNSET:-} $$HOME ${SET:?m} $SET-x $UNSET.", env)
	require.NoError(t, err)
	assert.Equal(t, "v v d  d  $HOME v v-x .", out)
	out, err = Interpolate("[${SET:+a}] [${EMPTY:+a}] [${EMPTY+a}] [${UNSET+a}]", env)
	require.NoError(t, err)
	assert.Equal(t, "[a] [] [a] []", out)

	_, err = Interpolate("${A:?set A} ${EMPTY:?set it} ${EMPTY?fine}", env)
	var missing *MissingError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, []string{"A", "EMPTY"}, missing.Names)
}

package handlers

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A body of 2 MiB costs the duplicate-key scan no allocation per value, only one map per object
// that has keys: a hostile body cannot make the check dearer than reading it.
func TestDuplicateKeyScanAllocatesPerObjectOnly(t *testing.T) {
	numbers := []byte(`{"input":[` + strings.Repeat("0,", 1<<20-8) + `0]}`)
	allocs := testing.AllocsPerRun(3, func() {
		_, dup := duplicateKey(numbers)
		assert.False(t, dup)
	})
	assert.LessOrEqual(t, allocs, 8.0, "allocations for 2 MiB of numbers")

	escaped := []byte(`{"a\"b":1,"c":{"a\"b":2},"a\u0022b":3}`)
	key, dup := duplicateKey(escaped)
	assert.True(t, dup)
	assert.Equal(t, `a"b`, key)
}

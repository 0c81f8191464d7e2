package handlers

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The contract's input schemas are plain objects today; the walk for integers written with a
// fraction or an exponent follows the other shapes a schema can take too, refusing a number only
// where the schema is sure to ask for an integer.
func TestIntegerLiteralsFollowTheSchema(t *testing.T) {
	const oneOfCorB = `{"oneOf":[{"type":"object","required":["c"],"properties":{"a":{"type":"integer"}}},` +
		`{"type":"object","required":["b"],"properties":{"a":{"type":"number"}}}]}`
	for _, tt := range []struct {
		name, schema, value string
		want                []string // the refused values' JSON pointers
	}{
		{"an integer", `{"type":"integer"}`, `30`, nil},
		{"a whole number with a fraction", `{"type":"integer"}`, `30.0`, []string{"/input"}},
		{"a number where a number is asked", `{"type":"number"}`, `30.0`, nil},
		{"text that looks like one", `{"type":"integer"}`, `"30.0"`, nil},
		{"a property", `{"type":"object","properties":{"n":{"type":"integer"}}}`, `{"n":1e3,"m":1e3}`, []string{"/input/n"}},
		{"additional properties", `{"type":"object","additionalProperties":{"type":"integer"}}`, `{"a/b":1,"c~":2.0}`, []string{"/input/c~0"}},
		{"items", `{"type":"array","items":{"type":"integer"}}`, `[1,2.0,3]`, []string{"/input/1"}},
		{"allOf", `{"allOf":[{"type":"object"},{"properties":{"n":{"type":"integer"}}}]}`, `{"n":1.0}`, []string{"/input/n"}},
		{"anyOf whose every fitting alternative asks an integer", `{"anyOf":[{"type":"integer"},{"type":"string"}]}`, `2E0`, []string{"/input"}},
		{"anyOf with a number among them", `{"anyOf":[{"type":"integer"},{"type":"number"}]}`, `2.0`, nil},
		{"oneOf, the alternative that asks a number fits", oneOfCorB, `{"b":true,"a":1.0}`, nil},
		{"oneOf, the alternative that asks an integer fits", oneOfCorB, `{"c":true,"a":1.0}`, []string{"/input/a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var schema openapi3.Schema
			require.NoError(t, json.Unmarshal([]byte(tt.schema), &schema))
			dec := json.NewDecoder(bytes.NewReader([]byte(tt.value)))
			dec.UseNumber()
			var value any
			require.NoError(t, dec.Decode(&value))
			var got []string
			for _, f := range integerLiterals(&schema, value, nil) {
				got = append(got, f.Field)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

package handlers

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/auth"
)

// specWith is a spec whose global security asks for an API key and whose one operation, GET
// /things, is shaped by edit.
func specWith(edit func(*openapi3.Operation)) *openapi3.T {
	op := &openapi3.Operation{OperationID: "listThings", Extensions: map[string]any{}}
	edit(op)
	return &openapi3.T{
		Security: openapi3.SecurityRequirements{{"apiKey": {}}},
		Paths:    openapi3.NewPaths(openapi3.WithPath("/things", &openapi3.PathItem{Get: op})),
	}
}

func TestRouteAccessRulesComeFromTheSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*openapi3.Operation)
		want routeAccess
		err  string
	}{
		{"scope", func(op *openapi3.Operation) { op.Extensions["x-required-scope"] = "start" }, routeAccess{scope: auth.ScopeStart}, ""},
		{"public", func(op *openapi3.Operation) { op.Security = &openapi3.SecurityRequirements{} }, routeAccess{public: true}, ""},
		{"credentials optional", func(op *openapi3.Operation) {
			op.Security = &openapi3.SecurityRequirements{{"apiKey": {}}, {}}
		}, routeAccess{public: true}, ""},
		{"secured without a scope", func(*openapi3.Operation) {}, routeAccess{}, `listThings (GET /things) needs credentials but its x-required-scope is ""`},
		{"unknown scope", func(op *openapi3.Operation) { op.Extensions["x-required-scope"] = "write" }, routeAccess{}, `is "write"`},
		{"scope of the wrong type", func(op *openapi3.Operation) { op.Extensions["x-required-scope"] = []any{"read"} }, routeAccess{}, "x-required-scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := routeAccessRules(specWith(tc.edit))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, map[string]routeAccess{"GET /things": tc.want}, rules)
		})
	}
}

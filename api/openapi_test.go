package api_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/api"
)

// The gateway validates requests with kin-openapi, so the contract must be valid to it too, not
// only to Redocly (make lint-spec): its examples included, each against its schema.
func TestContractIsValidWithItsExamples(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(loader.Context, openapi3.EnableExamplesValidation()))
}

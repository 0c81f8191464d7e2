// Package api carries the HTTP contract, so the gateway can serve the exact document it validates against.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml as written.
//
//go:embed openapi.yaml
var OpenAPI []byte

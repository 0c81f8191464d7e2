// Package client is the generated Go client of the Temporal HTTP gateway: the models of
// api/openapi.yaml and ClientWithResponses, whose methods answer typed responses (JSON201,
// ApplicationproblemJSON409 and the like) beside the raw *http.Response. Nothing in it but this
// file is written by hand; regenerate it with `go generate ./client/`.
package client

//go:generate go tool oapi-codegen -config cfg.yaml ../api/openapi.yaml

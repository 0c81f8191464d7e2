// Package gen holds the code generated from api/openapi.yaml; nothing in it is written by hand.
package gen

//go:generate go tool oapi-codegen -config cfg.yaml ../../api/openapi.yaml

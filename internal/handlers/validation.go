package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/temporalhttp/gateway/internal/gen"
)

// requestProblem turns an error of the OpenAPI request validator into the problem the client sees:
// each schema violation becomes a named field error, and nothing of the validator's own text
// beyond the violated rule reaches the client.
func requestProblem(err error) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return err
	}
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		var multi openapi3.MultiError
		if errors.As(err, &multi) {
			var fields []gen.FieldError
			for _, e := range multi {
				if p, ok := requestProblem(e).(*problemError); ok {
					fields = append(fields, p.fields...)
				}
			}
			if len(fields) > 0 {
				return validationProblem(fields...)
			}
		}
		return validationProblem()
	}

	if reqErr.Parameter != nil {
		in := gen.FieldErrorIn(reqErr.Parameter.In)
		msg := "is invalid"
		if reqErr.Err != nil {
			var schemaErr *openapi3.SchemaError
			switch {
			case errors.As(reqErr.Err, &schemaErr):
				msg = schemaErr.Reason
			case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
				msg = "is required"
			case errors.Is(reqErr.Err, openapi3filter.ErrInvalidEmptyValue):
				msg = "must not be empty"
			}
		}
		return validationProblem(gen.FieldError{In: in, Field: reqErr.Parameter.Name, Message: msg})
	}

	if reqErr.RequestBody != nil {
		switch {
		case reqErr.Err == nil && strings.HasPrefix(reqErr.Reason, "header Content-Type has unexpected value"):
			return unsupportedMediaType()
		case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
			return validationProblem(gen.FieldError{In: gen.FieldErrorInBody, Field: "", Message: "a JSON request body is required"})
		}
		var parseErr *openapi3filter.ParseError
		if errors.As(reqErr.Err, &parseErr) {
			return malformedJSON()
		}
		if fields := schemaFieldErrors(reqErr.Err); len(fields) > 0 {
			return validationProblem(fields...)
		}
	}
	return validationProblem()
}

// schemaFieldErrors lists the schema violations in a body validation error.
func schemaFieldErrors(err error) []gen.FieldError {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		var fields []gen.FieldError
		for _, e := range multi {
			fields = append(fields, schemaFieldErrors(e)...)
		}
		return fields
	}
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		path := schemaErr.JSONPointer()
		msg := schemaErr.Reason
		switch {
		case strings.HasSuffix(msg, " is unsupported"):
			// The validator reports an unknown property at its parent; name the property itself.
			if name, err := strconv.QuotedPrefix(strings.TrimPrefix(msg, "property ")); err == nil {
				name, _ = strconv.Unquote(name)
				path = append(path, name)
				msg = "is not a known field"
			}
		case schemaErr.SchemaField == "required":
			msg = "is required"
		case schemaErr.SchemaField == "pattern" && schemaErr.Schema != nil && schemaErr.Schema.Example != nil:
			msg = fmt.Sprintf("has the wrong format (for example %v)", schemaErr.Schema.Example)
		}
		return []gen.FieldError{{In: gen.FieldErrorInBody, Field: strings.Join(path, "."), Message: msg}}
	}
	return nil
}

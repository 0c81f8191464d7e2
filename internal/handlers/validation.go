package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"

	"github.com/temporalhttp/gateway/internal/gen"
)

// validateRequests checks every request against spec before its handler runs, answering a
// request that breaks the contract with the problem that names what is wrong.
//
// The input of a typed operation (a typed start, signal or update) is checked after the rest of
// its body, by the check that POST /workflows makes of a start's input (checkInputValue): the same
// bad input gets the same 422 on both paths, each field named by its JSON pointer, and the rest of
// the body the same 400, in the same order.
func validateRequests(spec *openapi3.T, pw problemWriter) (func(http.Handler) http.Handler, error) {
	// Requests are served whatever host they came to: the servers of the spec are relative.
	spec.Servers = nil
	typed := takeTypedInputs(spec)
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI spec: %w", err)
	}
	opts := &openapi3filter.Options{
		MultiError: true,
		// The body reaches the handler byte for byte: no defaults written into it, and no
		// re-decoded copy of it kept (the JSON input is passed to Temporal untouched).
		SkipSettingDefaults: true,
		// The authenticate middleware has checked the credentials already, before validation.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// This router's own parameters are escaped: "é" would be checked as "%C3%A9", six
			// characters against maxLength, and "%2E" would pass for a "." that the handler then
			// sees. The values are checked as the handler gets them, which validUTF8 decoded.
			route, _, err := router.FindRoute(r)
			if err != nil {
				pw.writeError(w, r, requestProblem(err))
				return
			}
			err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
				Request: r, PathParams: pathParams(r), Route: route, Options: opts,
			})
			if err != nil {
				pw.writeError(w, r, requestProblem(err))
				return
			}
			if in, ok := typed[route.Operation]; ok {
				if err := in.check(r); err != nil {
					pw.writeError(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// typedInput is the input of a typed operation: its schema, and the words of its 422.
type typedInput struct {
	schema *openapi3.Schema
	detail string
}

// takeTypedInputs finds the input of each typed operation (x-workflow-type) with a body, and
// leaves the request validator to check the rest of that body: its `input` is taken out of what
// the validator checks (any JSON, and not required), for typedInput.check to check after it.
func takeTypedInputs(spec *openapi3.T) map[*openapi3.Operation]typedInput {
	typed := map[*openapi3.Operation]typedInput{}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			workflowType, ok := op.Extensions["x-workflow-type"].(string)
			if !ok || op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			media := op.RequestBody.Value.Content.Get("application/json")
			if media == nil || media.Schema == nil || media.Schema.Value == nil {
				continue
			}
			input := media.Schema.Value.Properties["input"]
			if input == nil || input.Value == nil {
				continue
			}
			ref := strings.TrimPrefix(input.Ref, "#/components/schemas/")
			detail := fmt.Sprintf("The input does not fit %s, the input schema of workflow type %q; "+
				"errors names each field by its JSON pointer.", ref, workflowType)
			for _, kind := range []string{"x-signal", "x-update"} {
				if name, ok := op.Extensions[kind].(string); ok {
					detail = fmt.Sprintf("The input does not fit %s, the input of %s %q of workflow type %q; "+
						"errors names each field by its JSON pointer.", ref, strings.TrimPrefix(kind, "x-"), name, workflowType)
				}
			}
			typed[op] = typedInput{schema: input.Value, detail: detail}

			// The body as the validator sees it: the same, but for its input.
			envelope := *media.Schema.Value
			envelope.Properties = maps.Clone(envelope.Properties)
			envelope.Properties["input"] = &openapi3.SchemaRef{Value: &openapi3.Schema{Nullable: true}}
			envelope.Required = slices.DeleteFunc(slices.Clone(envelope.Required), func(r string) bool { return r == "input" })
			media.Schema = &openapi3.SchemaRef{Value: &envelope}
		}
	}
	return typed
}

// check holds the input of the request's body, which the validator has found to be an object, to
// the schema.
func (in typedInput) check(r *http.Request) error {
	if r.Body == nil {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return malformedJSON()
	}
	return checkInputValue(in.schema, fields["input"], in.detail)
}

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
				msg = schemaMessage(schemaErr)
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
		msg := schemaMessage(schemaErr)
		// The validator reports an unknown property at its parent; name the property itself.
		if name, ok := unknownProperty(schemaErr); ok {
			path = append(path, name)
		}
		return []gen.FieldError{{In: gen.FieldErrorInBody, Field: strings.Join(path, "."), Message: msg}}
	}
	return nil
}

// schemaMessage says what is wrong with a value in words a client can act on: the validator's
// reason, except where that reason is a regular expression, a bound written as a float, none at
// all, or one about the value's parent.
func schemaMessage(schemaErr *openapi3.SchemaError) string {
	switch {
	case schemaErr.SchemaField == "required":
		return "is required"
	case schemaErr.SchemaField == "maximum" && schemaErr.Schema != nil && schemaErr.Schema.Max != nil:
		// The validator writes a large bound as a float, 9.223372036e+09.
		return "must be at most " + strconv.FormatFloat(*schemaErr.Schema.Max, 'f', -1, 64)
	case schemaErr.SchemaField == "minimum" && schemaErr.Schema != nil && schemaErr.Schema.Min != nil:
		return "must be at least " + strconv.FormatFloat(*schemaErr.Schema.Min, 'f', -1, 64)
	case schemaErr.SchemaField == "pattern" && schemaErr.Schema != nil && schemaErr.Schema.Example != nil:
		return fmt.Sprintf("has the wrong format (for example %v)", schemaErr.Schema.Example)
	case schemaErr.SchemaField == "not" && schemaErr.Schema != nil && schemaErr.Schema.Not != nil &&
		schemaErr.Schema.Not.Value != nil && len(schemaErr.Schema.Not.Value.Enum) > 0:
		// The validator gives no reason for a value that a "not" schema refuses.
		var refused []string
		for _, v := range schemaErr.Schema.Not.Value.Enum {
			refused = append(refused, fmt.Sprintf("%q", v))
		}
		return "must not be " + strings.Join(refused, " or ")
	}
	if _, ok := unknownProperty(schemaErr); ok {
		return "is not a known field"
	}
	return schemaErr.Reason
}

// unknownProperty is the name of the property that schemaErr refuses as unknown, if it does.
func unknownProperty(schemaErr *openapi3.SchemaError) (string, bool) {
	if !strings.HasSuffix(schemaErr.Reason, " is unsupported") {
		return "", false
	}
	quoted, err := strconv.QuotedPrefix(strings.TrimPrefix(schemaErr.Reason, "property "))
	if err != nil {
		return "", false
	}
	name, err := strconv.Unquote(quoted)
	return name, err == nil
}

// pathParamsKey carries a request's path parameters, decoded once by validUTF8, to the
// validator.
type pathParamsKey struct{}

// decodePathParams are the path parameters of r's route as its handler gets them, in route order.
// chi routes on the escaped path when there is one (r.URL.RawPath) and then hands out its values
// escaped, as the generated binder knows too. A value that does not unescape is kept as it is,
// for the binder to refuse.
func decodePathParams(r *http.Request) (names []string, values map[string]string) {
	values = map[string]string{}
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return nil, values
	}
	for i, name := range rctx.URLParams.Keys {
		v := rctx.URLParams.Values[i]
		if r.URL.RawPath != "" {
			if unescaped, err := url.PathUnescape(v); err == nil {
				v = unescaped
			}
		}
		names = append(names, name)
		values[name] = v
	}
	return names, values
}

// pathParams are r's path parameters as its handler gets them: those validUTF8 decoded, or
// decoded now when it did not run.
func pathParams(r *http.Request) map[string]string {
	if values, ok := r.Context().Value(pathParamsKey{}).(map[string]string); ok {
		return values
	}
	_, values := decodePathParams(r)
	return values
}

// validUTF8 refuses a request whose path or query parameters are not valid UTF-8, naming each.
// OpenAPI cannot ask a parameter to be text, the validator passes any bytes, and Temporal's
// strings are protobuf strings, which must be UTF-8: such a value would otherwise fail the call
// to Temporal with an error that looks like the gateway's own. It passes the path parameters
// that it decoded on, for the validator to check the same values.
func validUTF8(pw problemWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var fields []gen.FieldError
			invalid := func(in gen.FieldErrorIn, name string) {
				fields = append(fields, gen.FieldError{In: in, Field: strings.ToValidUTF8(name, "\uFFFD"), Message: "is not valid UTF-8"})
			}
			names, params := decodePathParams(r)
			for _, name := range names {
				if !utf8.ValidString(params[name]) {
					invalid(gen.FieldErrorInPath, name)
				}
			}
			query := r.URL.Query()
			for _, name := range slices.Sorted(maps.Keys(query)) {
				if !utf8.ValidString(name) || slices.ContainsFunc(query[name], func(v string) bool { return !utf8.ValidString(v) }) {
					invalid(gen.FieldErrorInQuery, name)
				}
			}
			if len(fields) > 0 {
				pw.writeError(w, r, validationProblem(fields...))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), pathParamsKey{}, params)))
		})
	}
}

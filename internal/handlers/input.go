package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/temporalhttp/gateway/internal/gen"
)

// WorkflowType is a workflow type the workers host, as the contract describes it.
type WorkflowType struct {
	Name        string
	Description string
	// Input is the schema that a start's input must fit; nil takes any input.
	Input *openapi3.Schema
	// InputRef names Input in the contract, for the problem that a misfit gets.
	InputRef string
	// Path is the type's typed resource, such as /money-transfers.
	Path string
	// Result and Failure name the schemas of what an execution of the type returns and fails with.
	Result, Failure string
	// FailureTypes are the values that the failure's type can take.
	FailureTypes []string
	// Signals, Queries and Updates are the type's handlers, with the schemas they take and answer.
	Signals, Queries, Updates []Handler
	// Schemas is what GET /workflow-types answers of the type: each schema as JSON Schema.
	Schemas gen.WorkflowType
}

// Handler is a signal, query or update of a workflow type: its name and the names of the schemas
// of what it takes and answers ("" when it takes or answers nothing).
type Handler struct {
	Name, Input, Result string
}

// workflowTypesExtension is the contract's list of the hosted workflow types.
const workflowTypesExtension = "x-workflow-types"

// schemaRefPrefix begins every reference to a schema of the contract.
const schemaRefPrefix = "#/components/schemas/"

// ref is a reference in x-workflow-types, {"$ref": "#/components/schemas/Name"}.
type ref struct {
	Ref string `json:"$ref"`
}

// listedHandler is a signal, query or update as x-workflow-types lists it.
type listedHandler struct {
	Name   string `json:"name"`
	Input  *ref   `json:"input"`
	Result *ref   `json:"result"`
}

// ContractWorkflowTypes are the workflow types that the contract (api/openapi.yaml) says this
// deployment's workers host, each with its description, typed resource and schemas, in the
// contract's order.
func ContractWorkflowTypes() ([]WorkflowType, error) {
	spec, err := gen.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load embedded OpenAPI spec: %w", err)
	}
	raw, err := json.Marshal(spec.Extensions[workflowTypesExtension])
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", workflowTypesExtension, err)
	}
	var listed []struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Path        string          `json:"path"`
		Input       ref             `json:"input"`
		Result      ref             `json:"result"`
		Failure     ref             `json:"failure"`
		Signals     []listedHandler `json:"signals"`
		Queries     []listedHandler `json:"queries"`
		Updates     []listedHandler `json:"updates"`
	}
	if err := json.Unmarshal(raw, &listed); err != nil || len(listed) == 0 {
		return nil, fmt.Errorf("the contract lists no workflow types in %s", workflowTypesExtension)
	}
	types := make([]WorkflowType, 0, len(listed))
	seen := map[string]bool{}
	for _, l := range listed {
		if l.Name == "" || l.Description == "" || l.Path == "" {
			return nil, fmt.Errorf("%s: a workflow type without a name, description or path", workflowTypesExtension)
		}
		if seen[l.Name] {
			return nil, fmt.Errorf("%s: workflow type %q is listed twice", workflowTypesExtension, l.Name)
		}
		seen[l.Name] = true
		c := contractSchemas{spec: spec, of: l.Name}
		t := WorkflowType{Name: l.Name, Description: l.Description, Path: l.Path,
			InputRef: c.name(&l.Input), Result: c.name(&l.Result), Failure: c.name(&l.Failure)}
		if t.InputRef != "" {
			t.Input = spec.Components.Schemas[t.InputRef].Value
		}
		if fail := spec.Components.Schemas[t.Failure]; fail != nil && fail.Value != nil {
			if typ := fail.Value.Properties["type"]; typ != nil && typ.Value != nil {
				for _, v := range typ.Value.Enum {
					t.FailureTypes = append(t.FailureTypes, fmt.Sprint(v))
				}
			}
		}
		for _, h := range []struct {
			listed []listedHandler
			dest   *[]Handler
		}{{l.Signals, &t.Signals}, {l.Queries, &t.Queries}, {l.Updates, &t.Updates}} {
			for _, lh := range h.listed {
				*h.dest = append(*h.dest, Handler{Name: lh.Name, Input: c.name(lh.Input), Result: c.name(lh.Result)})
			}
		}
		if c.err != nil {
			return nil, c.err
		}
		if t.InputRef == "" || t.Result == "" || t.Failure == "" {
			return nil, fmt.Errorf("%s: workflow type %q needs an input, a result and a failure", workflowTypesExtension, l.Name)
		}
		if t.Schemas, err = schemasOf(spec, t); err != nil {
			return nil, err
		}
		types = append(types, t)
	}
	return types, nil
}

// contractSchemas reads the references of one workflow type, keeping the first that names no
// schema of the contract.
type contractSchemas struct {
	spec *openapi3.T
	of   string
	err  error
}

func (c *contractSchemas) name(r *ref) string {
	if r == nil || r.Ref == "" {
		return ""
	}
	name, ok := strings.CutPrefix(r.Ref, schemaRefPrefix)
	if s := c.spec.Components.Schemas[name]; !ok || s == nil || s.Value == nil {
		if c.err == nil {
			c.err = fmt.Errorf("%s: workflow type %q refers to %q, which is not a schema of the contract",
				workflowTypesExtension, c.of, r.Ref)
		}
		return ""
	}
	return name
}

// schemasOf is what GET /workflow-types answers of t: its schemas as self-contained JSON Schemas.
func schemasOf(spec *openapi3.T, t WorkflowType) (gen.WorkflowType, error) {
	var firstErr error
	schema := func(name string) *gen.JSONSchema {
		if name == "" {
			return nil
		}
		b, err := jsonSchema(spec, name)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return &b
	}
	handlers := func(hs []Handler) []gen.HandlerSchema {
		out := make([]gen.HandlerSchema, len(hs))
		for i, h := range hs {
			out[i] = gen.HandlerSchema{Name: h.Name, Input: schema(h.Input), Result: schema(h.Result)}
		}
		return out
	}
	out := gen.WorkflowType{
		Name: t.Name, Description: t.Description, Path: t.Path,
		Input: *schema(t.InputRef), Result: *schema(t.Result), Failure: *schema(t.Failure),
		FailureTypes: append([]string{}, t.FailureTypes...),
		Signals:      handlers(t.Signals), Queries: handlers(t.Queries), Updates: handlers(t.Updates),
	}
	return out, firstErr
}

// jsonSchema is the contract's schema name as one JSON Schema document (draft 2020-12), which a
// form generator can use as it is: every reference replaced by the schema it names, OpenAPI 3.0's
// `nullable` written as a type that admits "null", `example` as `examples`, and the code
// generator's extensions (x-go-*) left out. A schema that refers to itself (a failure's cause is a
// failure) is cut there, to {"type": "object"} with a description that names it. Examples,
// defaults and enums are values, copied as they are.
func jsonSchema(spec *openapi3.T, name string) (json.RawMessage, error) {
	var resolve func(name string, within []string) (any, error)
	var schema func(v any, within []string) (any, error)
	resolve = func(name string, within []string) (any, error) {
		if slices.Contains(within, name) {
			return map[string]any{"type": "object", "description": "A " + name + ", as above."}, nil
		}
		s := spec.Components.Schemas[name]
		if s == nil || s.Value == nil {
			return nil, fmt.Errorf("schema %q is not in the contract", name)
		}
		b, err := json.Marshal(s.Value)
		if err != nil {
			return nil, fmt.Errorf("encode schema %q: %w", name, err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("decode schema %q: %w", name, err)
		}
		return schema(v, append(slices.Clip(within), name))
	}
	schema = func(v any, within []string) (any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return v, nil // a boolean schema, or none
		}
		if r, ok := m["$ref"].(string); ok {
			name, ok := strings.CutPrefix(r, schemaRefPrefix)
			if !ok {
				return nil, fmt.Errorf("reference %q is not to a schema of the contract", r)
			}
			return resolve(name, within)
		}
		out := make(map[string]any, len(m))
		var err error
		for k, e := range m {
			switch {
			case strings.HasPrefix(k, "x-go-"):
				continue
			case k == "properties":
				props, _ := e.(map[string]any)
				resolved := make(map[string]any, len(props))
				for name, p := range props {
					if resolved[name], err = schema(p, within); err != nil {
						return nil, err
					}
				}
				out[k] = resolved
			case k == "items" || k == "additionalProperties" || k == "not":
				if out[k], err = schema(e, within); err != nil {
					return nil, err
				}
			case k == "allOf" || k == "anyOf" || k == "oneOf":
				list, _ := e.([]any)
				resolved := make([]any, len(list))
				for i, p := range list {
					if resolved[i], err = schema(p, within); err != nil {
						return nil, err
					}
				}
				out[k] = resolved
			case k == "example":
				out["examples"] = []any{e}
			case k == "nullable":
				// Below, with the type.
			default:
				out[k] = e
			}
		}
		if nullable, _ := m["nullable"].(bool); nullable {
			if t, ok := out["type"].(string); ok {
				out["type"] = []any{t, "null"}
			}
		}
		return out, nil
	}
	v, err := resolve(name, nil)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// checkContract holds a start on this deployment's own task queue to the contract: its type must
// be one that the deployment's workers host (unless any type is allowed), and its input must fit
// that type's schema. The contract describes those workers only. A start on another queue, one
// the operator allows or an administrator names, goes to whatever worker polls that queue, which
// may host other types, or a type of the same name that takes another input.
func (s *Server) checkContract(body *gen.StartWorkflowRequest) error {
	if queue := deref(body.TaskQueue); queue != "" && queue != s.opts.TaskQueue {
		return nil
	}
	if err := s.checkInput(body); err != nil {
		return err
	}
	if !s.opts.AllowAnyWorkflowType && !s.known[body.WorkflowType] {
		return newProblem(http.StatusUnprocessableEntity, problemUnknownType, "Unknown workflow type",
			fmt.Sprintf("No worker of this deployment hosts workflow type %q on its task queue; GET /workflow-types lists those it hosts.",
				body.WorkflowType))
	}
	return nil
}

// checkInput holds the input of a start of a hosted type to that type's input schema, before
// anything reaches Temporal: a misfit input would otherwise start an execution that fails at
// once, or worse, one that runs on a value the worker decoded into something else (a misspelt
// field dropped, a number of seconds that overflows a duration).
func (s *Server) checkInput(body *gen.StartWorkflowRequest) error {
	t, ok := s.workflowType(body.WorkflowType)
	if !ok || t.Input == nil {
		return nil
	}
	return checkInputValue(t.Input, deref(body.Input),
		fmt.Sprintf("The input does not fit %s, the input schema of workflow type %q; errors names each field by its JSON pointer.",
			t.InputRef, t.Name))
}

// checkInputValue holds input (nil or null when the request had none) to schema, answering 422
// with detail and each misfit field named by its JSON pointer in the body (/input/...). It is the
// one check of a workflow's input, a signal's or an update's, on every path that knows its schema.
func checkInputValue(schema *openapi3.Schema, input json.RawMessage, detail string) error {
	var value any
	if input != nil && string(bytes.TrimSpace(input)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(input))
		dec.UseNumber() // the validator reads json.Number, without float64 rounding on the way in
		if err := dec.Decode(&value); err != nil {
			return malformedJSON()
		}
	} else if schema.Type.Is(openapi3.TypeObject) {
		// The workflow gets its input's zero value, which is {} as JSON.
		value = map[string]any{}
	}
	fields := integerLiterals(schema, value, nil)
	if err := schema.VisitJSON(value, openapi3.MultiErrors()); err != nil {
		schemaFields := inputFieldErrors(err)
		if len(schemaFields) == 0 {
			schemaFields = []gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input", Message: "does not fit the input schema"}}
		}
		// A number the walk refused is named once, as the walk says: the validator's words for
		// 1.5 or 1e400 ("value must be an integer", "cannot convert json.Number to float64")
		// say less, or say it in Go.
		for _, f := range schemaFields {
			if !slices.ContainsFunc(fields, func(g gen.FieldError) bool { return g.Field == f.Field }) {
				fields = append(fields, f)
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	p := newProblem(http.StatusUnprocessableEntity, problemInvalidInput, "Invalid workflow input", detail)
	p.fields = fields
	return p
}

// integerLiterals names each number in value (an input decoded with UseNumber, at path within
// the input) that schema asks to be an integer but that the worker's encoding/json would not
// decode into the int64 of its input struct: one written with a fraction or an exponent, such as
// 250.0 or 1e3, which the validator takes for an integer when its value is whole, and an int64
// just beyond the type's bounds, which the validator rounds into them. The run would otherwise
// fail at once, with Go's words in its failure.
//
// The walk follows the schema where it is certain which subschema a value meets: properties,
// additionalProperties, items and allOf. Of anyOf and oneOf alternatives, a number is refused
// only when every alternative that the value fits refuses it.
func integerLiterals(schema *openapi3.Schema, value any, path []string) []gen.FieldError {
	if schema == nil {
		return nil
	}
	var fields []gen.FieldError
	for _, sub := range schema.AllOf {
		fields = append(fields, integerLiterals(sub.Value, value, path)...)
	}
	for _, alternatives := range []openapi3.SchemaRefs{schema.AnyOf, schema.OneOf} {
		var refused []gen.FieldError
		for _, alt := range alternatives {
			if alt.Value == nil || alt.Value.VisitJSON(value) != nil {
				continue
			}
			found := integerLiterals(alt.Value, value, path)
			if len(found) == 0 {
				refused = nil
				break
			}
			if refused == nil {
				refused = found
			}
		}
		fields = append(fields, refused...)
	}
	switch v := value.(type) {
	case json.Number:
		// As the validator: an integer is asked for where a number would not do.
		if !schema.Type.Permits(openapi3.TypeInteger) || schema.Type.Permits(openapi3.TypeNumber) {
			break
		}
		invalid := func(msg string) {
			fields = append(fields, gen.FieldError{In: gen.FieldErrorInBody, Field: inputPointer(path), Message: msg})
		}
		lit := v.String()
		if strings.ContainsAny(lit, ".eE") {
			invalid("must be written as an integer, without a fraction or an exponent")
			break
		}
		if _, err := strconv.ParseInt(lit, 10, 64); err == nil || schema.Format != "int64" {
			break
		}
		// The validator compares a float64, in which 9223372036854775808 is the largest int64.
		// A bound of the schema's own within int64 refuses such a number already, in its words.
		negative := strings.HasPrefix(lit, "-")
		if (negative && (schema.Min == nil || *schema.Min <= math.MinInt64)) ||
			(!negative && (schema.Max == nil || *schema.Max >= math.MaxInt64)) {
			invalid(fmt.Sprintf("must be between %d and %d", math.MinInt64, math.MaxInt64))
		}
	case map[string]any:
		for _, name := range slices.Sorted(maps.Keys(v)) {
			sub := schema.AdditionalProperties.Schema
			if p := schema.Properties[name]; p != nil {
				sub = p
			}
			if sub != nil {
				fields = append(fields, integerLiterals(sub.Value, v[name], append(slices.Clip(path), name))...)
			}
		}
	case []any:
		if schema.Items != nil {
			for i, item := range v {
				fields = append(fields, integerLiterals(schema.Items.Value, item, append(slices.Clip(path), strconv.Itoa(i)))...)
			}
		}
	}
	return fields
}

// workflowType is the hosted type of this name.
func (s *Server) workflowType(name string) (WorkflowType, bool) {
	for _, t := range s.opts.WorkflowTypes {
		if t.Name == name {
			return t, true
		}
	}
	return WorkflowType{}, false
}

// inputFieldErrors names each violation of an input schema by its JSON pointer in the request
// body (RFC 6901), such as /input/seconds.
func inputFieldErrors(err error) []gen.FieldError {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		var fields []gen.FieldError
		for _, e := range multi {
			fields = append(fields, inputFieldErrors(e)...)
		}
		return fields
	}
	var schemaErr *openapi3.SchemaError
	if !errors.As(err, &schemaErr) {
		return nil
	}
	path := schemaErr.JSONPointer()
	if name, ok := unknownProperty(schemaErr); ok {
		path = append(path, name)
	}
	return []gen.FieldError{{In: gen.FieldErrorInBody, Field: inputPointer(path), Message: schemaMessage(schemaErr)}}
}

// inputPointer is the JSON pointer (RFC 6901) in the request body of the value at path within
// the input.
func inputPointer(path []string) string {
	pointer := "/input"
	escape := strings.NewReplacer("~", "~0", "/", "~1")
	for _, p := range path {
		pointer += "/" + escape.Replace(p)
	}
	return pointer
}

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

// WorkflowType is a workflow type the workers host.
type WorkflowType struct {
	Name        string
	Description string
	// Input is the schema that a start's input must fit; nil takes any input.
	Input *openapi3.Schema
	// InputRef names Input in the contract, for the problem that a misfit gets.
	InputRef string
}

// workflowTypesExtension is the contract's list of the hosted workflow types.
const workflowTypesExtension = "x-workflow-types"

// ContractWorkflowTypes are the workflow types that the contract (api/openapi.yaml) says this
// deployment's workers host, each with its description and input schema, in the contract's order.
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
		Name        string `json:"name"`
		Description string `json:"description"`
		Input       struct {
			Ref string `json:"$ref"`
		} `json:"input"`
	}
	if err := json.Unmarshal(raw, &listed); err != nil || len(listed) == 0 {
		return nil, fmt.Errorf("the contract lists no workflow types in %s", workflowTypesExtension)
	}
	types := make([]WorkflowType, 0, len(listed))
	seen := map[string]bool{}
	for _, l := range listed {
		name, ok := strings.CutPrefix(l.Input.Ref, "#/components/schemas/")
		schema := spec.Components.Schemas[name]
		switch {
		case l.Name == "" || l.Description == "":
			return nil, fmt.Errorf("%s: a workflow type without a name or description", workflowTypesExtension)
		case seen[l.Name]:
			return nil, fmt.Errorf("%s: workflow type %q is listed twice", workflowTypesExtension, l.Name)
		case !ok || schema == nil || schema.Value == nil:
			return nil, fmt.Errorf("%s: the input of workflow type %q is not a schema of the contract: %q",
				workflowTypesExtension, l.Name, l.Input.Ref)
		}
		seen[l.Name] = true
		types = append(types, WorkflowType{Name: l.Name, Description: l.Description, Input: schema.Value, InputRef: name})
	}
	return types, nil
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
	var value any
	if in := body.Input; in != nil && string(bytes.TrimSpace(*in)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(*body.Input))
		dec.UseNumber() // the validator reads json.Number, without float64 rounding on the way in
		if err := dec.Decode(&value); err != nil {
			return malformedJSON()
		}
	} else if t.Input.Type.Is(openapi3.TypeObject) {
		// The workflow gets its input's zero value, which is {} as JSON.
		value = map[string]any{}
	}
	fields := integerLiterals(t.Input, value, nil)
	if err := t.Input.VisitJSON(value, openapi3.MultiErrors()); err != nil {
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
	p := newProblem(http.StatusUnprocessableEntity, problemInvalidInput, "Invalid workflow input",
		fmt.Sprintf("The input does not fit %s, the input schema of workflow type %q; errors names each field by its JSON pointer.",
			t.InputRef, t.Name))
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

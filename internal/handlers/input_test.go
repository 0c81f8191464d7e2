package handlers_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
	"github.com/temporalhttp/gateway/internal/temporal"
)

// contractTypes are the workflow types of the contract, as the gateway serves them.
func contractTypes(t testing.TB) []handlers.WorkflowType {
	t.Helper()
	types, err := handlers.ContractWorkflowTypes()
	require.NoError(t, err)
	return types
}

// withContractTypes runs the router with the contract's workflow types, as the gateway does.
func withContractTypes(t testing.TB) func(*handlers.Options) {
	types := contractTypes(t)
	return func(o *handlers.Options) { o.WorkflowTypes = types }
}

// modelPackage is where the Go types of the contract's schemas are generated.
const modelPackage = "github.com/temporalhttp/gateway/internal/model"

// requireModelType holds a Go type of the worker to the contract's schema: the type generated
// from that schema into internal/model, or, for a schema that the generator makes an alias of
// another type (x-go-type, or an object without properties), that type.
func requireModelType(t *testing.T, schema string, goType reflect.Type) {
	t.Helper()
	spec, err := gen.GetSwagger()
	require.NoError(t, err)
	s := spec.Components.Schemas[schema]
	require.NotNil(t, s, "%s is a schema of the contract", schema)
	switch {
	case s.Value.Extensions["x-go-type"] == "json.RawMessage":
		assert.Equal(t, reflect.TypeFor[json.RawMessage](), goType, "%s is any JSON", schema)
	case s.Value.Type.Is(openapi3.TypeObject) && len(s.Value.Properties) == 0:
		assert.Equal(t, reflect.TypeFor[map[string]any](), goType, "%s has no fields", schema)
	default:
		assert.Equal(t, modelPackage+"."+schema, goType.PkgPath()+"."+goType.Name(),
			"the worker's type is the one generated from the contract's %s", schema)
	}
}

// TestContractWorkflowTypesAreWhatTheWorkerRegisters holds the contract's x-workflow-types to the
// worker: the same types in the same order, each workflow taking and returning the Go types
// generated from the schemas the contract names (so a field added to a schema is a field of the
// worker's struct once `make generate` has run, and check-generated fails until it has), and the
// same signals, queries and updates with the same types.
func TestContractWorkflowTypesAreWhatTheWorkerRegisters(t *testing.T) {
	contract := contractTypes(t)
	worker := temporal.WorkflowTypes()
	require.Len(t, contract, len(worker))
	for i, w := range worker {
		c := contract[i]
		t.Run(w.Name, func(t *testing.T) {
			require.Equal(t, w.Name, c.Name, "the contract lists the worker's types in its order")
			assert.NotEmpty(t, c.Description)
			require.NotNil(t, c.Input)
			requireModelType(t, c.InputRef, w.Input())
			requireModelType(t, c.Result, w.Result())
			for _, h := range []struct {
				kind             string
				worker           []temporal.Handler
				contract         []handlers.Handler
				input, hasResult bool
			}{
				{"signal", w.Signals, c.Signals, true, false},
				{"query", w.Queries, c.Queries, false, true},
				{"update", w.Updates, c.Updates, true, true},
			} {
				require.Len(t, h.contract, len(h.worker), "%ss", h.kind)
				for j, wh := range h.worker {
					ch := h.contract[j]
					require.Equal(t, wh.Name, ch.Name, "the %s's name", h.kind)
					if assert.Equal(t, wh.Input != nil, ch.Input != "", "%s %s takes an input", h.kind, wh.Name) && wh.Input != nil {
						requireModelType(t, ch.Input, wh.Input)
					}
					if assert.Equal(t, wh.Result != nil, ch.Result != "", "%s %s answers", h.kind, wh.Name) && wh.Result != nil {
						requireModelType(t, ch.Result, wh.Result)
					}
				}
			}
		})
	}
}

// TestEveryInputRefusesFieldsTheWorkerWouldDrop: an object input takes no other fields, since
// the worker's JSON decoding would drop a misspelt one silently.
func TestEveryInputRefusesFieldsTheWorkerWouldDrop(t *testing.T) {
	for _, c := range contractTypes(t) {
		if !c.Input.Type.Is(openapi3.TypeObject) {
			continue
		}
		require.NotNil(t, c.Input.AdditionalProperties.Has, c.InputRef)
		assert.False(t, *c.Input.AdditionalProperties.Has, "%s refuses fields the worker would drop", c.InputRef)
		assert.Error(t, c.Input.VisitJSON(map[string]any{"notAField": 1}), c.InputRef)
	}
}

// TestDurationInputsStopWhereADurationDoes: seconds up to what a time.Duration holds, and no more.
func TestDurationInputsStopWhereADurationDoes(t *testing.T) {
	for _, tt := range []struct{ schema, field string }{{"SleepInput", "seconds"}, {"ApprovalInput", "timeoutSeconds"}} {
		t.Run(tt.schema, func(t *testing.T) {
			spec, err := gen.GetSwagger()
			require.NoError(t, err)
			prop := spec.Components.Schemas[tt.schema].Value.Properties[tt.field].Value
			require.NotNil(t, prop.Max)
			assert.Equal(t, float64(temporal.MaxSleepSeconds), *prop.Max)
			require.NotNil(t, prop.Min)
			assert.Zero(t, *prop.Min)
		})
	}
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

// notAnIntegerLiteral is what a number written with a fraction or an exponent is told where the
// input schema asks for an integer.
const notAnIntegerLiteral = "must be written as an integer, without a fraction or an exponent"

// beyondInt64 is what an integer is told that the worker's int64 cannot hold.
const beyondInt64 = "must be between -9223372036854775808 and 9223372036854775807"

// TestStartInputIsCheckedAgainstItsType: the input of a start of a type the contract knows fits
// that type's schema, or the start answers 422 naming each misfit field by its JSON pointer, and
// nothing reaches Temporal.
func TestStartInputIsCheckedAgainstItsType(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantFields []gen.FieldError // none: the start goes through
	}{
		{"sleep", `{"workflowType":"Sleep","input":{"seconds":30}}`, nil},
		{"sleep as long as a duration holds", `{"workflowType":"Sleep","input":{"seconds":9223372036}}`, nil},
		{"sleep without input sleeps 0 seconds", `{"workflowType":"Sleep"}`, nil},
		{"sleep with null input", `{"workflowType":"Sleep","input":null}`, nil},
		{"sleep that overflows a duration", `{"workflowType":"Sleep","input":{"seconds":9223372037}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: "must be at most 9223372036"}}},
		{"sleep of the largest int64", `{"workflowType":"Sleep","input":{"seconds":9223372036854775807}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: "must be at most 9223372036"}}},
		{"sleep beyond int64", `{"workflowType":"Sleep","input":{"seconds":1e400}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: notAnIntegerLiteral}}},
		{"negative sleep", `{"workflowType":"Sleep","input":{"seconds":-1}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: "must be at least 0"}}},
		{"sleep of a fraction", `{"workflowType":"Sleep","input":{"seconds":1.5}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: notAnIntegerLiteral}}},
		// The validator takes a whole number for an integer however it is written; the worker's
		// encoding/json does not, and would fail the run at once.
		{"sleep of a whole number with a fraction", `{"workflowType":"Sleep","input":{"seconds":30.0}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: notAnIntegerLiteral}}},
		{"sleep of a whole number with an exponent", `{"workflowType":"Sleep","input":{"seconds":1e3}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: notAnIntegerLiteral}}},
		{"sleep of a whole number with a capital exponent", `{"workflowType":"Sleep","input":{"seconds":3E1}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: notAnIntegerLiteral}}},
		{"sleep of minus zero", `{"workflowType":"Sleep","input":{"seconds":-0}}`, nil},
		{"money transfer of a whole amount with a fraction", `{"workflowType":"MoneyTransfer","input":{"fromAccount":"alice","toAccount":"bob","amount":250.0,"referenceId":"inv-9"}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/amount", Message: notAnIntegerLiteral}}},
		{"approval with two such fields", `{"workflowType":"Approval","input":{"amount":1.25e2,"timeoutSeconds":60.00}}`,
			[]gen.FieldError{
				{In: gen.FieldErrorInBody, Field: "/input/amount", Message: notAnIntegerLiteral},
				{In: gen.FieldErrorInBody, Field: "/input/timeoutSeconds", Message: notAnIntegerLiteral},
			}},
		// The validator reads a number as a float64, in which 2^63 is the largest int64.
		{"approval of an amount just beyond int64", `{"workflowType":"Approval","input":{"amount":9223372036854775808}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/amount", Message: beyondInt64}}},
		{"approval of an amount just below int64", `{"workflowType":"Approval","input":{"amount":-9223372036854775809}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/amount", Message: beyondInt64}}},
		{"sleep beyond int64, written whole", `{"workflowType":"Sleep","input":{"seconds":9223372036854775808}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/seconds", Message: "must be at most 9223372036"}}},
		{"approval of the int64 bounds", `{"workflowType":"Approval","input":{"amount":-9223372036854775808}}`, nil},
		{"money transfer of the largest int64", `{"workflowType":"MoneyTransfer","input":{"fromAccount":"alice","toAccount":"bob","amount":9223372036854775807,"referenceId":"inv-9"}}`, nil},
		{"echo of numbers written any way", `{"workflowType":"Echo","input":{"amount":250.0,"n":[1e3,1.5]}}`, nil},
		{"sleep with a misspelt field", `{"workflowType":"Sleep","input":{"second":600}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/second", Message: "is not a known field"}}},
		{"sleep of text", `{"workflowType":"Sleep","input":"ten"}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input", Message: "value must be an object"}}},
		{"greeting", `{"workflowType":"Greeting","input":{"name":"Ada"}}`, nil},
		{"greeting without a name", `{"workflowType":"Greeting","input":{}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/name", Message: "is required"}}},
		{"greeting without input", `{"workflowType":"Greeting"}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/name", Message: "is required"}}},
		{"field named with / and ~", `{"workflowType":"Greeting","input":{"name":"Ada","a/b~c":1}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/a~1b~0c", Message: "is not a known field"}}},
		{"money transfer with every field wrong", `{"workflowType":"MoneyTransfer","input":{"fromAccount":"","amount":0,"referenceId":7}}`,
			[]gen.FieldError{
				{In: gen.FieldErrorInBody, Field: "/input/toAccount", Message: "is required"},
				{In: gen.FieldErrorInBody, Field: "/input/fromAccount", Message: "minimum string length is 1"},
				{In: gen.FieldErrorInBody, Field: "/input/amount", Message: "must be at least 1"},
				{In: gen.FieldErrorInBody, Field: "/input/referenceId", Message: "value must be a string"},
			}},
		{"cron counter without input", `{"workflowType":"CronCounter"}`, nil},
		{"cron counter with a field", `{"workflowType":"CronCounter","input":{"count":3}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/count", Message: "is not a known field"}}},
		{"echo of anything", `{"workflowType":"Echo","input":[1,{"x":"y"}]}`, nil},
		{"signal-with-start whose start overflows", `{"workflowType":"Approval","workflowId":"po-7","input":{"timeoutSeconds":9223372037},"signal":{"name":"decision"}}`,
			[]gen.FieldError{{In: gen.FieldErrorInBody, Field: "/input/timeoutSeconds", Message: "must be at most 9223372036"}}},
		{"signal-with-start that fits", `{"workflowType":"Approval","workflowId":"po-7","input":{"timeoutSeconds":60},"signal":{"name":"decision"}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTemporal{}
			rec := serve(newRouter(t, fake, withContractTypes(t)), newRequest(http.MethodPost, "/workflows", tt.body))
			if tt.wantFields == nil {
				require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
				return
			}
			p := requireProblem(t, rec, "urn:temporal-http:problem:invalid-input")
			require.NotNil(t, p.Errors)
			assert.ElementsMatch(t, tt.wantFields, *p.Errors)
			assert.Empty(t, fake.startCalls(), "an invalid input reached Temporal")
		})
	}
}

// TestInputOfATypeTheContractDoesNotKnowPassesThrough: with any type allowed, the gateway has no
// schema for an unknown type's input and passes it as it came.
func TestInputOfATypeTheContractDoesNotKnowPassesThrough(t *testing.T) {
	fake := &fakeTemporal{}
	h := newRouter(t, fake, withContractTypes(t), func(o *handlers.Options) { o.AllowAnyWorkflowType = true })
	rec := serve(h, newRequest(http.MethodPost, "/workflows", `{"workflowType":"Shipping","input":{"seconds":1e400}}`))
	require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
	require.Len(t, fake.startCalls(), 1)
}

// TestWorkflowTypesComeFromTheContract: GET /workflow-types answers the contract's list.
func TestWorkflowTypesComeFromTheContract(t *testing.T) {
	rec := serve(newRouter(t, &fakeTemporal{}, withContractTypes(t)), newRequest(http.MethodGet, "/workflow-types", ""))
	require.Equal(t, http.StatusOK, rec.Code)
	var list gen.WorkflowTypeList
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	var names []string
	for _, wt := range list.WorkflowTypes {
		names = append(names, wt.Name)
		assert.NotEmpty(t, wt.Description)
	}
	var worker []string
	for _, w := range temporal.WorkflowTypes() {
		worker = append(worker, w.Name)
	}
	assert.Equal(t, worker, names)
	assert.Subset(t, names, []string{"Greeting", "Echo", "Sleep", "MoneyTransfer", "CronCounter", "Approval", "Cart"})
}

// TestEveryHostedTypeHasItsTypedResource holds the contract to the recipe of
// docs/workflow-types.md: each type of x-workflow-types has a typed start at its path and a typed
// read under it, whose execution's result and failure are the type's own, and an operation for
// each of its signals, queries and updates.
func TestEveryHostedTypeHasItsTypedResource(t *testing.T) {
	spec, err := gen.GetSwagger()
	require.NoError(t, err)
	for _, c := range contractTypes(t) {
		t.Run(c.Name, func(t *testing.T) {
			marked := func(op *openapi3.Operation) bool {
				return op != nil && op.Extensions["x-workflow-type"] == c.Name
			}
			startItem := spec.Paths.Value(c.Path)
			require.NotNil(t, startItem, "POST %s", c.Path)
			require.True(t, marked(startItem.Post), "POST %s is a typed start of %s", c.Path, c.Name)
			input := startItem.Post.RequestBody.Value.Content["application/json"].Schema.Value.Properties["input"]
			require.NotNil(t, input, "POST %s takes an input", c.Path)
			assert.Equal(t, "#/components/schemas/"+c.InputRef, input.Ref)

			readItem := spec.Paths.Value(c.Path + "/{workflowId}")
			require.NotNil(t, readItem, "GET %s/{workflowId}", c.Path)
			require.True(t, marked(readItem.Get), "GET %s/{workflowId} is a typed read of %s", c.Path, c.Name)
			execution := readItem.Get.Responses.Value("200").Value.Content["application/json"].Schema
			assert.Equal(t, "#/components/schemas/"+c.Name+"Execution", execution.Ref)
			typedPart := execution.Value.AllOf[1].Value
			assert.Equal(t, "#/components/schemas/"+c.Result, typedPart.Properties["result"].Ref)
			assert.Equal(t, "#/components/schemas/"+c.Failure, typedPart.Properties["failure"].Ref)

			for _, h := range []struct {
				extension string
				handlers  []handlers.Handler
			}{{"x-signal", c.Signals}, {"x-query", c.Queries}, {"x-update", c.Updates}} {
				for _, handler := range h.handlers {
					found := 0
					for _, item := range spec.Paths.Map() {
						for _, op := range item.Operations() {
							if marked(op) && op.Extensions[h.extension] == handler.Name {
								found++
							}
						}
					}
					assert.Equal(t, 1, found, "one operation of %s is its %s %q", c.Name, h.extension, handler.Name)
				}
			}
		})
	}
}

// TestWorkflowTypeSchemasAreJSONSchema: GET /workflow-types answers schemas a JSON Schema tool
// takes as they are: no reference left, no OpenAPI-only keyword, values copied as they are.
func TestWorkflowTypeSchemasAreJSONSchema(t *testing.T) {
	rec := serve(newRouter(t, &fakeTemporal{}, withContractTypes(t)), newRequest(http.MethodGet, "/workflow-types", ""))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	for _, openAPIOnly := range []string{`"$ref"`, `"nullable"`, `"example"`, `"x-go-`} {
		assert.NotContains(t, body, openAPIOnly)
	}
	var list gen.WorkflowTypeList
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	byName := map[string]gen.WorkflowType{}
	for _, wt := range list.WorkflowTypes {
		byName[wt.Name] = wt
	}
	// Echo takes any JSON value, null included: as JSON Schema, an object or null.
	assert.Contains(t, string(byName["Echo"].Input), `"type":["object","null"]`)
	// A reference inside a schema is resolved: the Cart's items are CartItems, with their bounds.
	var receipt struct {
		Properties struct {
			Items struct {
				Items struct {
					Required []string `json:"required"`
				} `json:"items"`
			} `json:"items"`
		} `json:"properties"`
		Examples []json.RawMessage `json:"examples"`
	}
	require.NoError(t, json.Unmarshal(byName["Cart"].Result, &receipt))
	assert.ElementsMatch(t, []string{"sku", "quantity", "priceCents"}, receipt.Properties.Items.Items.Required)
	assert.Len(t, receipt.Examples, 1, "the schema's example, as examples")
	// A failure's cause is a failure: cut, not followed forever.
	assert.Contains(t, string(byName["MoneyTransfer"].Failure), `"A Failure, as above."`)
}

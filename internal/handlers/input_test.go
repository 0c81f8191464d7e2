package handlers_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
	"github.com/temporalhttp/gateway/internal/temporal"
)

// contractTypes are the workflow types of the contract, as the gateway serves them.
func contractTypes(t *testing.T) []handlers.WorkflowType {
	t.Helper()
	types, err := handlers.ContractWorkflowTypes()
	require.NoError(t, err)
	return types
}

// withContractTypes runs the router with the contract's workflow types, as the gateway does.
func withContractTypes(t *testing.T) func(*handlers.Options) {
	types := contractTypes(t)
	return func(o *handlers.Options) { o.WorkflowTypes = types }
}

// sampleOf is a value of the Go type typ with every field set: text "x", numbers 1.
func sampleOf(t *testing.T, typ reflect.Type) any {
	t.Helper()
	if typ == reflect.TypeFor[json.RawMessage]() {
		return json.RawMessage(`{"any":["json",1,null]}`)
	}
	require.Equal(t, reflect.Struct, typ.Kind(), "%s", typ)
	v := reflect.New(typ).Elem()
	for i := range typ.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Int64:
			f.SetInt(1)
		default:
			t.Fatalf("%s.%s: the test knows no sample of a %s", typ, typ.Field(i).Name, f.Kind())
		}
	}
	return v.Interface()
}

// TestContractWorkflowTypesAreWhatTheWorkerRegisters holds the contract's x-workflow-types to the
// worker: the same types in the same order, and each input schema to the worker's Go struct,
// field for field, so that the JSON of the struct fits the schema and a field the struct does
// not have is refused.
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
			goType := w.Input()

			if goType == reflect.TypeFor[json.RawMessage]() {
				for _, v := range []string{`{"a":1}`, `[1,"x"]`, `"text"`, `123456789012345678901234567890`, `true`, `null`} {
					assert.NoError(t, c.Input.VisitJSON(decodeJSON(t, v)), "any JSON fits %s: %s", c.InputRef, v)
				}
				return
			}
			// Field for field: the schema's properties are the struct's JSON fields, of its types.
			require.True(t, c.Input.Type.Is(openapi3.TypeObject), "%s is an object", c.InputRef)
			require.NotNil(t, c.Input.AdditionalProperties.Has)
			assert.False(t, *c.Input.AdditionalProperties.Has, "%s refuses fields the worker would drop", c.InputRef)
			var names []string
			for i := range goType.NumField() {
				f := goType.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				require.NotEmpty(t, name, "%s.%s has a JSON name", goType, f.Name)
				names = append(names, name)
				prop := c.Input.Properties[name]
				require.NotNil(t, prop, "%s has %s's field %q", c.InputRef, goType, name)
				switch f.Type.Kind() {
				case reflect.String:
					assert.True(t, prop.Value.Type.Is(openapi3.TypeString), "%s.%s is a string", c.InputRef, name)
				case reflect.Int64:
					assert.True(t, prop.Value.Type.Is(openapi3.TypeInteger), "%s.%s is an integer", c.InputRef, name)
					assert.Equal(t, "int64", prop.Value.Format, "%s.%s", c.InputRef, name)
				default:
					t.Fatalf("%s.%s: the test knows no schema of a %s", goType, f.Name, f.Type.Kind())
				}
			}
			var props []string
			for name := range c.Input.Properties {
				props = append(props, name)
			}
			assert.ElementsMatch(t, names, props, "%s has the fields of %s, no more", c.InputRef, goType)

			b, err := json.Marshal(sampleOf(t, goType))
			require.NoError(t, err)
			assert.NoError(t, c.Input.VisitJSON(decodeJSON(t, string(b))), "%s fits %s", b, c.InputRef)

			withUnknown := decodeJSON(t, string(b)).(map[string]any)
			withUnknown["notAField"] = 1
			assert.Error(t, c.Input.VisitJSON(withUnknown), "%s refuses a field %s does not have", c.InputRef, goType)
			for _, name := range names {
				wrong := decodeJSON(t, string(b)).(map[string]any)
				wrong[name] = []any{"of the wrong type"}
				assert.Error(t, c.Input.VisitJSON(wrong), "%s refuses %s of the wrong type", c.InputRef, name)
			}
		})
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
	assert.Equal(t, []string{"Greeting", "Echo", "Sleep", "MoneyTransfer", "CronCounter", "Approval"}, names)
}

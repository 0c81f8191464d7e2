package temporal

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// recordingRegistry records what Register puts on a worker. The embedded nil Registry makes any
// other registration method panic, so Register using one fails the test.
type recordingRegistry struct {
	worker.Registry
	workflows  []registeredWorkflow
	activities []any
}

type registeredWorkflow struct {
	fn   any
	opts workflow.RegisterOptions
}

func (r *recordingRegistry) RegisterWorkflowWithOptions(w any, opts workflow.RegisterOptions) {
	r.workflows = append(r.workflows, registeredWorkflow{w, opts})
}

func (r *recordingRegistry) RegisterActivity(a any) {
	r.activities = append(r.activities, a)
}

func TestRegister(t *testing.T) {
	want := []struct {
		name string
		fn   any
	}{
		{"Greeting", Greeting},
		{"Echo", Echo},
		{"Sleep", Sleep},
		{"MoneyTransfer", MoneyTransfer},
		{"CronCounter", CronCounter},
		{"Approval", Approval},
		{"Cart", Cart},
	}
	var r recordingRegistry
	activities := &Activities{Bank: NewBank(SeedAccounts)}
	Register(&r, activities)

	require.Len(t, r.workflows, len(want))
	for i, w := range want {
		got := r.workflows[i]
		assert.Equal(t, w.name, got.opts.Name, "workflow %d", i)
		assert.Equal(t, reflect.ValueOf(w.fn).Pointer(), reflect.ValueOf(got.fn).Pointer(),
			"%s registers the function %s", got.opts.Name, w.name)
		assert.False(t, got.opts.DisableAlreadyRegisteredCheck, "%s", w.name)
	}
	require.Len(t, r.activities, 1)
	assert.Same(t, activities, r.activities[0], "the worker's activities are the value passed in")

	types := WorkflowTypes()
	require.Len(t, types, len(r.workflows))
	for i, typ := range types {
		assert.Equal(t, r.workflows[i].opts.Name, typ.Name, "WorkflowTypes and Register agree on order and names")
		fn := reflect.TypeOf(r.workflows[i].fn)
		require.Equal(t, 2, fn.NumIn(), "%s takes a context and its input", typ.Name)
		assert.Equal(t, fn.In(1), typ.Input(), "%s's input type", typ.Name)
	}
}

func TestWorkflowTypesReturnsACopy(t *testing.T) {
	types := WorkflowTypes()
	require.NotEmpty(t, types)
	types[0].Name = "Changed"

	assert.Equal(t, "Greeting", WorkflowTypes()[0].Name)
	var r recordingRegistry
	Register(&r, &Activities{})
	require.NotEmpty(t, r.workflows)
	assert.Equal(t, "Greeting", r.workflows[0].opts.Name)
}

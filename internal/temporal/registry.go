package temporal

import (
	"reflect"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// WorkflowType is a workflow this project's workers host.
type WorkflowType struct {
	Name string
	fn   any
}

// workflowTypes is the list of hosted workflows that the worker and the launcher register. The
// contract (api/openapi.yaml, x-workflow-types) lists the same types, with their descriptions
// and input schemas, for the gateway; a test of the gateway's holds the two lists together.
var workflowTypes = []WorkflowType{
	{"Greeting", Greeting},
	{"Echo", Echo},
	{"Sleep", Sleep},
	{"MoneyTransfer", MoneyTransfer},
	{"CronCounter", CronCounter},
	{"Approval", Approval},
}

// Input is the Go type of the workflow's input: its function's argument after the context.
func (t WorkflowType) Input() reflect.Type { return reflect.TypeOf(t.fn).In(1) }

// WorkflowTypes lists the hosted workflows in registration order.
func WorkflowTypes() []WorkflowType {
	return append([]WorkflowType(nil), workflowTypes...)
}

// Register puts every hosted workflow, under its public name, and the activities on a worker.
func Register(r worker.Registry, activities *Activities) {
	for _, t := range workflowTypes {
		r.RegisterWorkflowWithOptions(t.fn, workflow.RegisterOptions{Name: t.Name})
	}
	r.RegisterActivity(activities)
}

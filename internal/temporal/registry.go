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
	// Signals, Queries and Updates are the handlers the workflow sets, as the contract lists them.
	Signals, Queries, Updates []Handler
}

// Handler is a signal, query or update that a workflow sets: its name, the Go type of its
// argument (nil when it takes none) and of its answer (nil for a signal).
type Handler struct {
	Name          string
	Input, Result reflect.Type
}

// workflowTypes is the list of hosted workflows that the worker and the launcher register. The
// contract (api/openapi.yaml, x-workflow-types) lists the same types, with their schemas, whose Go
// types (internal/model) the workflows take and return; a test of the gateway's holds the two
// lists together.
var workflowTypes = []WorkflowType{
	{Name: "Greeting", fn: Greeting},
	{Name: "Echo", fn: Echo},
	{Name: "Sleep", fn: Sleep},
	{Name: "MoneyTransfer", fn: MoneyTransfer},
	{Name: "CronCounter", fn: CronCounter},
	{Name: "Approval", fn: Approval,
		Signals: []Handler{{ApprovalDecisionSignal, reflect.TypeFor[ApprovalDecision](), nil}},
		Queries: []Handler{{ApprovalStatusQuery, nil, reflect.TypeFor[ApprovalStatus]()}},
		Updates: []Handler{{ApprovalApproveUpdate, reflect.TypeFor[ApproveInput](), reflect.TypeFor[ApprovalStatus]()}}},
	{Name: "Cart", fn: Cart,
		Signals: []Handler{{CartCheckoutSignal, reflect.TypeFor[CartCheckout](), nil}},
		Queries: []Handler{{CartContentsQuery, nil, reflect.TypeFor[CartContents]()}},
		Updates: []Handler{{CartAddItemUpdate, reflect.TypeFor[CartItem](), reflect.TypeFor[CartContents]()}}},
}

// Input is the Go type of the workflow's input: its function's argument after the context.
func (t WorkflowType) Input() reflect.Type { return reflect.TypeOf(t.fn).In(1) }

// Result is the Go type of the workflow's result: its function's first return value.
func (t WorkflowType) Result() reflect.Type { return reflect.TypeOf(t.fn).Out(0) }

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

package temporal

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// WorkflowType is a workflow this project's workers host.
type WorkflowType struct {
	Name        string
	Description string
	fn          any
}

// workflowTypes is the one list of hosted workflows: the worker registers it, the launcher
// registers it, and the gateway refuses to start any type not on it.
var workflowTypes = []WorkflowType{
	{"Greeting", `Greets {"name"} with {"greeting"}, the text made by an activity.`, Greeting},
	{"Echo", "Returns its input unchanged, any JSON value.", Echo},
	{"Sleep", `Waits {"seconds"} on a durable timer and returns {"sleptSeconds"}.`, Sleep},
	{"MoneyTransfer", "Moves integer cents between ledger accounts once per referenceId, giving the money back when the deposit fails or the transfer is canceled.", MoneyTransfer},
	{"CronCounter", `Returns {"count"}, one more than the last cron run's count.`, CronCounter},
	{"Approval", `Waits up to {"timeoutSeconds"} (default 3600) for a "decision" signal or an "approve" update and returns {"state", "comment"}; the "status" query reads the state.`, Approval},
}

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

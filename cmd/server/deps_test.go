package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The gateway learns the workflow types from the contract and its configuration, not from the
// worker's code: adding a workflow must not mean rebuilding the gateway from it.
func TestGatewayDoesNotLinkTheWorkersCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	const worker = "github.com/temporalhttp/gateway/internal/temporal"
	if slices.ContainsFunc(deps, func(d string) bool { return d == worker || strings.HasPrefix(d, worker+"/") }) {
		t.Error("cmd/server links internal/temporal, the worker's workflows and activities")
	}
}

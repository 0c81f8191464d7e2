package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The launcher refuses what it cannot run with before it finds, builds or starts anything.
func TestRunRefusesBeforeStartingAnything(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		vars    map[string]string
		problem string
	}{
		{"an unknown argument", []string{"dev", "up"}, nil, `unknown argument "up"`},
		{"an invalid setting", []string{"dev"}, map[string]string{"DEV_UI_PORT": "ui"}, "DEV_UI_PORT must be a port number"},
		{"a CLI that is not there", []string{"dev"}, map[string]string{"TEMPORAL_CLI": "/nonexistent/temporal"}, "TEMPORAL_CLI names no file"},
		{"a CLI that is not there, asked for its path", []string{"dev", "cli"}, map[string]string{"TEMPORAL_CLI": "/nonexistent/temporal"},
			"TEMPORAL_CLI names no file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(name string) string { return tt.vars[name] }
			err := run(t.Context(), tt.args, getenv, io.Discard, io.Discard)
			assert.ErrorContains(t, err, tt.problem)
		})
	}
}

//go:build !linux

package main

import (
	"context"
	"errors"
	"io"
)

// runCluster needs Linux: the cluster's children die with the launcher through Pdeathsig.
func runCluster(context.Context, func(string) string, io.Writer, io.Writer) error {
	return errors.New("the local cluster runs on Linux only; use `make run` (the dev server) here")
}

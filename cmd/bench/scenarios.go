package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Path names, as the progress lines say them.
const (
	pathSDK = "Go SDK (own process)"
	// pathSDKPlain is the same client without gzip of its gRPC requests, as the gateway runs.
	pathSDKPlain = "Go SDK (own process), no gRPC compression"
	pathNative   = "Temporal HTTP API"
	pathGateway  = "gateway"
	// pathMinimal is the gateway asked for a 201 without a body: one Temporal call per start.
	pathMinimal = "gateway, Prefer: return=minimal"
	// pathTwoGateways is the cluster's two gateways, the requests sent to each in turn.
	pathTwoGateways = "two gateways"
)

// startFigures are the start scenario's figures at one concurrency.
type startFigures struct {
	concurrency                             int
	sdk, sdkPlain, native, gateway, minimal sample
	twoGateways                             sample // on the cluster only
	// paths are the paths that ran, in the table's order.
	paths            []startPath
	gatewayPeakAfter int64 // the dev server's gateway only
}

// startPath is one way of starting that the start scenario measures.
type startPath struct {
	name, label string // label is the table's
	out         *sample
	run         func(tag string, last bool) error
}

// benchStart starts Greetings on the idle queue through each path in turn, for every round, at
// the run's concurrency; the CPU profile, if asked for, covers the gateway's last round.
func benchStart(ctx context.Context, st *stack, s settings, rep *report, progress io.Writer) (err error) {
	rep.start, err = startPaths(ctx, st, s.concurrency, s.duration, s.rounds, "start", s.cpuProfile, progress)
	return err
}

// benchLatency is the start scenario one request at a time: the latency each path adds when
// nothing queues.
func benchLatency(ctx context.Context, st *stack, s settings, rep *report, progress io.Writer) (err error) {
	rep.latency, err = startPaths(ctx, st, 1, s.duration, 1, "latency", "", progress)
	return err
}

func startPaths(ctx context.Context, st *stack, concurrency int, d time.Duration, rounds int, name, cpuProfile string, progress io.Writer) (*startFigures, error) {
	f := &startFigures{concurrency: concurrency}
	c := newHTTPClient(concurrency)
	warm := warmupFor(d)
	sdk := func(out *sample, suffix string, extra ...string) func(string, bool) error {
		return func(tag string, _ bool) error {
			child, err := runChild(ctx, st, "start", concurrency, d, tag+suffix, extra...)
			out.merge(child)
			return err
		}
	}
	// overHTTP runs the requests that op makes, first unmeasured for the warm-up, then measured.
	overHTTP := func(out *sample, suffix string, op func(prefix string) func(ctx context.Context, loop, i int) error) func(string, bool) error {
		return func(tag string, _ bool) error {
			load(ctx, concurrency, warm, op(tag+suffix+"-warm"))
			got, err := measured(ctx, st, func() sample { return load(ctx, concurrency, d, op(tag+suffix)) })
			out.merge(got)
			return err
		}
	}
	native := func(prefix string) func(ctx context.Context, loop, i int) error { return nativeStart(st, c, prefix) }
	through := func(bases []string) func(prefix string) func(ctx context.Context, loop, i int) error {
		return func(prefix string) func(ctx context.Context, loop, i int) error {
			return gatewayStart(bases, c, idleQueue, prefix, 0, false)
		}
	}
	one := st.gatewayURLs[:1]
	const nativeLabel = pathNative + ": POST /api/v1/namespaces/{ns}/workflows/{id}"
	if st.onCluster {
		f.paths = []startPath{
			{pathSDK, pathSDK + ": ExecuteWorkflow", &f.sdk, sdk(&f.sdk, "-sdk")},
			{pathNative, nativeLabel, &f.native, overHTTP(&f.native, "-native", native)},
			{pathGateway, pathGateway + ": POST /workflows, one gateway", &f.gateway, overHTTP(&f.gateway, "-gw", through(one))},
			{pathTwoGateways, pathGateway + ": POST /workflows, round robin over two gateways", &f.twoGateways, overHTTP(&f.twoGateways, "-gw2", through(st.gatewayURLs))},
		}
	} else {
		minimal := func(tag string, last bool) error {
			load(ctx, concurrency, warm, gatewayStart(one, c, idleQueue, tag+"-gwm-warm", 0, true))
			profiled := func() error { return nil }
			gw, err := measured(ctx, st, func() sample {
				if cpuProfile != "" && last {
					profiled = captureProfile(ctx, st.pprofAddr, d, cpuProfile)
				}
				return load(ctx, concurrency, d, gatewayStart(one, c, idleQueue, tag+"-gwm", 0, true))
			})
			f.minimal.merge(gw)
			return errors.Join(err, profiled())
		}
		f.paths = []startPath{
			{pathSDK, pathSDK + ": ExecuteWorkflow", &f.sdk, sdk(&f.sdk, "-sdk")},
			{pathSDKPlain, pathSDKPlain, &f.sdkPlain, sdk(&f.sdkPlain, "-sdkp", "-no-compression")},
			{pathNative, nativeLabel, &f.native, overHTTP(&f.native, "-native", native)},
			{pathGateway, pathGateway + ": POST /workflows", &f.gateway, overHTTP(&f.gateway, "-gw", through(one))},
			{pathMinimal, pathMinimal, &f.minimal, minimal},
		}
	}
	for round := range rounds {
		// Each round begins with another path: what Temporal is left doing, or how full it is,
		// falls on each path in turn.
		for k := range f.paths {
			p := f.paths[(round+k)%len(f.paths)]
			fmt.Fprintf(progress, "bench: %s, round %d/%d: %s ...\n", name, round+1, rounds, p.name)
			if err := p.run(fmt.Sprintf("%s-r%d", name, round), round == rounds-1); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range f.paths {
		if err := p.out.check(p.name); err != nil {
			return nil, err
		}
	}
	if st.gateway == nil {
		return f, nil
	}
	var err error
	_, f.gatewayPeakAfter, err = memory(st.gateway.pid())
	return f, err
}

// measured runs f, a load sent from this process, and reads the CPU time of this process and the
// stack's around it. The window begins once Temporal is idle and ends once it is idle again, so
// it holds all the work the load made it do, and only that.
func measured(ctx context.Context, st *stack, f func() sample) (sample, error) {
	if err := st.settle(ctx); err != nil {
		return sample{}, err
	}
	before, err := st.readCPU()
	if err != nil {
		return sample{}, err
	}
	out := f()
	// The client's figure ends with its load: the settle below reads /proc over and over, which
	// on the cluster costs this process more than a little.
	client, err := cpuTime(os.Getpid())
	if err != nil {
		return sample{}, err
	}
	if err := st.settle(ctx); err != nil {
		return sample{}, err
	}
	after, err := st.readCPU()
	if err != nil {
		return sample{}, err
	}
	after[clientCPU] = client
	out.CPU = after.since(before)
	return out, ctx.Err()
}

// benchStartAndWait starts Greetings on the worker's queue and waits for each result: the SDK
// with ExecuteWorkflow and Get, the gateway with one POST /workflows?wait=.
func benchStartAndWait(ctx context.Context, st *stack, s settings, rep *report, progress io.Writer) error {
	c := newHTTPClient(s.concurrency)
	warm := warmupFor(s.duration)
	paths := []struct {
		name string
		run  func(tag string) error
	}{
		{pathSDK, func(tag string) error {
			child, err := runChild(ctx, st, "wait", s.concurrency, s.duration, tag+"-sdk")
			rep.waitSDK.merge(child)
			return err
		}},
		{pathGateway, func(tag string) error {
			load(ctx, s.concurrency, warm, gatewayStart(st.gatewayURLs[:1], c, workerQueue, tag+"-gw-warm", 30*time.Second, false))
			gw, err := measured(ctx, st, func() sample {
				return load(ctx, s.concurrency, s.duration, gatewayStart(st.gatewayURLs[:1], c, workerQueue, tag+"-gw", 30*time.Second, false))
			})
			rep.waitGateway.merge(gw)
			return err
		}},
	}
	for round := range s.rounds {
		for k := range paths {
			p := paths[(round+k)%len(paths)]
			fmt.Fprintf(progress, "bench: start-and-wait, round %d/%d: %s ...\n", round+1, s.rounds, p.name)
			if err := p.run(fmt.Sprintf("wait-r%d", round)); err != nil {
				return err
			}
		}
	}
	if err := rep.waitSDK.check(pathSDK); err != nil {
		return err
	}
	rep.ranWait = true
	return rep.waitGateway.check(pathGateway)
}

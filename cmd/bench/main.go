// Command bench measures the gateway against the two other ways of starting a workflow over
// loopback: the Go SDK in a process of its own, and Temporal's native HTTP API. One run starts its
// own dev server, worker and gateway (or, with -cluster, the local multi-service cluster with two
// gateways), runs the scenarios and prints one table with the targets next to the figures.
// docs/benchmarks.md records runs and their method.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/temporalhttp/gateway/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// settings are the flags of a benchmark run.
type settings struct {
	concurrency int
	duration    time.Duration
	rounds      int
	scenarios   map[string]bool
	readers     int
	// readersByID has the readers ask for the latest run of the workflow id rather than the run
	// that the start's Location names.
	readersByID bool
	executions  int
	readerRate  int
	// cpuProfile, when set, is where the gateway's CPU profile of the last start round goes.
	cpuProfile string
	// memProfile, when set, is where the gateway's heap profile goes while the readers wait
	// (and its goroutine profile, with .goroutine added).
	memProfile string
	// overlay is a `go build -overlay` file applied to the binaries: a change measured without
	// editing the checkout.
	overlay string
	// gatewayEnv is added to the gateway's environment (GOMEMLIMIT, GATEWAY_* settings).
	gatewayEnv envList
	// cluster runs the start scenarios on the local multi-service cluster (internal/cluster)
	// instead of the dev server, through one gateway and through two.
	cluster bool
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

const usage = `usage: bench [flags]            run the benchmark (see -h)
       bench sdk-client [flags] the bare SDK client child process (started by bench itself)`

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "sdk-client" {
		return runSDKClient(ctx, args[2:], stdin, stdout)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	var s settings
	var scenarios string
	fs.IntVar(&s.concurrency, "concurrency", 32, "requests in flight at once, per path")
	fs.DurationVar(&s.duration, "duration", 10*time.Second, "how long each path runs, per round")
	fs.IntVar(&s.rounds, "rounds", 2, "rounds of the start and start-and-wait scenarios; the paths take turns in each, so that a dev server that slows as it fills up does not favour the path measured first")
	fs.StringVar(&scenarios, "scenarios", "start,latency,wait,readers", "comma-separated: start (at -concurrency), latency (start, one request at a time), wait (start-and-wait), readers (concurrent waits and the closed read)")
	fs.IntVar(&s.readers, "readers", 10_000, "concurrent waiting readers (readers scenario)")
	fs.IntVar(&s.executions, "executions", 1_000, "running executions the readers are spread over")
	fs.IntVar(&s.readerRate, "reader-rate", 500, "waiting readers started per second")
	fs.BoolVar(&s.readersByID, "readers-by-id", false, "readers name the workflow id only (the latest run), instead of the run's Location URL, which has its run id")
	fs.StringVar(&s.cpuProfile, "cpuprofile", "", "write a CPU profile of the gateway during its last start round with Prefer: return=minimal to this file (go tool pprof); the profiler's own cost then counts in that round's CPU figures")
	fs.StringVar(&s.memProfile, "memprofile", "", "write a heap profile of the gateway, while the readers wait over HTTP/1.1, to this file, and its goroutine profile to FILE.goroutine; over h2c to FILE.h2c and FILE.h2c.goroutine")
	fs.StringVar(&s.overlay, "overlay", "", "a go build -overlay file to build the binaries with: measures a change without editing the checkout")
	fs.Var(&s.gatewayEnv, "gateway-env", "KEY=VALUE added to the gateway's environment, such as GOMEMLIMIT=200MiB; repeatable")
	fs.BoolVar(&s.cluster, "cluster", false, "run on the local multi-service cluster (PostgreSQL, Temporal's four services as four processes, two gateways; Linux only) instead of the dev server: the start and latency scenarios, through one gateway and through two")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if s.cluster {
		if err := clusterSettings(fs, &scenarios); err != nil {
			return err
		}
	}
	s.scenarios = map[string]bool{}
	for _, name := range strings.Split(scenarios, ",") {
		switch name = strings.TrimSpace(name); name {
		case "start", "latency", "wait", "readers":
			s.scenarios[name] = true
		default:
			return fmt.Errorf("unknown scenario %q (start, latency, wait, readers)", name)
		}
	}
	for _, kv := range s.gatewayEnv {
		if strings.HasPrefix(kv, "GATEWAY_HTTP_ADDR=") {
			return errors.New("-gateway-env GATEWAY_HTTP_ADDR: the bench chooses where each gateway listens")
		}
	}
	if s.concurrency < 1 || s.duration <= 0 || s.rounds < 1 || s.readers < 1 || s.executions < 1 || s.readerRate < 1 {
		return errors.New("-concurrency, -duration, -rounds, -readers, -executions and -reader-rate must be positive")
	}

	st, err := newStack(ctx, getenv, s, stderr)
	if err != nil {
		return err
	}
	defer st.stop()
	rep := report{settings: s, cpuColumns: append([]string{clientCPU}, st.processes...), onCluster: st.onCluster}
	rep.machine = describeMachine(ctx, st)
	if s.scenarios["start"] {
		if err := benchStart(ctx, st, s, &rep, stderr); err != nil {
			return fmt.Errorf("start scenario: %w", err)
		}
	}
	if s.scenarios["latency"] {
		if err := benchLatency(ctx, st, s, &rep, stderr); err != nil {
			return fmt.Errorf("latency scenario: %w", err)
		}
	}
	if s.scenarios["wait"] {
		if err := benchStartAndWait(ctx, st, s, &rep, stderr); err != nil {
			return fmt.Errorf("start-and-wait scenario: %w", err)
		}
	}
	if s.scenarios["readers"] {
		if err := benchReaders(ctx, st, s, &rep, stderr); err != nil {
			return fmt.Errorf("readers scenario: %w", err)
		}
	}
	rep.unsettled = st.unsettled
	rep.print(stdout)
	st.removeLogs = true
	return nil
}

// newStack starts the stack the settings ask for: the dev server's, or the cluster's.
func newStack(ctx context.Context, getenv func(string) string, s settings, progress io.Writer) (*stack, error) {
	if s.cluster {
		cfg, err := config.LoadCluster(getenv)
		if err != nil {
			return nil, err
		}
		return startClusterStack(ctx, cfg, s, progress)
	}
	cli, err := config.LoadTemporalCLI(getenv)
	if err != nil {
		return nil, err
	}
	return startStack(ctx, cli, s, progress)
}

// clusterSettings checks the flags of a run on the cluster, and makes start and latency its
// scenarios unless -scenarios names them. The cluster builds the gateway itself, from the
// checkout, so the flags that change its build do not apply; nor do the scenarios that measure
// the gateway alone, which the dev server's run covers.
func clusterSettings(fs *flag.FlagSet, scenarios *string) error {
	var errs []error
	setScenarios := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "scenarios":
			setScenarios = true
		case "overlay", "cpuprofile", "memprofile", "readers", "executions", "reader-rate", "readers-by-id":
			errs = append(errs, fmt.Errorf("-%s does not apply to -cluster", f.Name))
		}
	})
	if !setScenarios {
		*scenarios = "start,latency"
	}
	for _, name := range strings.Split(*scenarios, ",") {
		if name = strings.TrimSpace(name); name != "start" && name != "latency" {
			errs = append(errs, fmt.Errorf("-cluster runs the start and latency scenarios only, not %q", name))
		}
	}
	return errors.Join(errs...)
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// greetingInput is the one input every path sends, so that each carries the same payload.
var greetingInput = map[string]string{"name": "Bench"}

// runSDKClient is the bare SDK client: a process that hosts no worker and only starts workflows
// through client.ExecuteWorkflow (and, with -mode wait, waits for them with Get). It talks to its
// parent over stdin and stdout, so that the parent can read its CPU time around the measured
// load alone: it warms up, prints "ready", waits for a line on stdin, runs the load, prints the
// sample as JSON, and exits when stdin closes.
func runSDKClient(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("sdk-client", flag.ContinueOnError)
	address := fs.String("address", "127.0.0.1:7233", "Temporal frontend")
	queue := fs.String("queue", idleQueue, "task queue")
	mode := fs.String("mode", "start", "start, or wait (start and Get)")
	concurrency := fs.Int("concurrency", 32, "loops")
	duration := fs.Duration("duration", 10*time.Second, "measured time")
	warmup := fs.Duration("warmup", time.Second, "unmeasured time before it")
	prefix := fs.String("id-prefix", "bench-sdk", "workflow id prefix")
	noCompression := fs.Bool("no-compression", false, "turn off the SDK's gzip of gRPC requests, as the gateway does by default")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mode != "start" && *mode != "wait" {
		return fmt.Errorf("-mode %q: start or wait", *mode)
	}
	opts := client.Options{HostPort: *address, Namespace: namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	if *noCompression {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	op := func(tag string) func(ctx context.Context, loop, i int) error {
		return func(ctx context.Context, loop, i int) error {
			opts := client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%s-%d-%d", *prefix, tag, loop, i), TaskQueue: *queue}
			run, err := c.ExecuteWorkflow(ctx, opts, "Greeting", greetingInput)
			if err != nil || *mode == "start" {
				return err
			}
			var result map[string]any
			return run.Get(ctx, &result)
		}
	}
	load(ctx, *concurrency, *warmup, op("warm"))
	fmt.Fprintln(stdout, "ready")
	in := bufio.NewReader(stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return fmt.Errorf("wait for the go-ahead: %w", err)
	}
	s := load(ctx, *concurrency, *duration, op("run"))
	if err := json.NewEncoder(stdout).Encode(s); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, in)
	return nil
}

// runChild runs the SDK client process for one measured load and reads the CPU time of it and
// of the stack's processes around that load.
func runChild(ctx context.Context, st *stack, mode string, concurrency int, d time.Duration, prefix string, extra ...string) (sample, error) {
	args := append([]string{"sdk-client",
		"-address", st.temporal, "-mode", mode, "-queue", queueFor(mode),
		"-concurrency", fmt.Sprint(concurrency), "-duration", d.String(), "-warmup", warmupFor(d).String(), "-id-prefix", prefix}, extra...)
	cmd := exec.CommandContext(ctx, filepath.Join(st.binDir, "bench"), args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return sample{}, err
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		return sample{}, err
	}
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	out := bufio.NewReader(stdoutPipe)
	fail := func(err error) (sample, error) {
		return sample{}, fmt.Errorf("sdk-client: %w: %s", err, stderr.String())
	}
	if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
		return fail(fmt.Errorf("no ready line (%q, %v)", line, err))
	}
	if err := st.settle(ctx); err != nil {
		return fail(err)
	}
	before, err := st.readCPU()
	if err != nil {
		return fail(err)
	}
	if before[clientCPU], err = cpuTime(cmd.Process.Pid); err != nil {
		return fail(err)
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		return fail(err)
	}
	line, err := out.ReadBytes('\n')
	if err != nil {
		return fail(err)
	}
	if err := st.settle(ctx); err != nil {
		return fail(err)
	}
	after, err := st.readCPU()
	if err != nil {
		return fail(err)
	}
	if after[clientCPU], err = cpuTime(cmd.Process.Pid); err != nil {
		return fail(err)
	}
	var r sample
	if err := json.Unmarshal(line, &r); err != nil {
		return fail(err)
	}
	r.CPU = after.since(before)
	return r, nil
}

func queueFor(mode string) string {
	if mode == "wait" {
		return workerQueue
	}
	return idleQueue
}

// warmupFor is the unmeasured time each path runs first: connections, pools and caches are up
// before the clock starts.
func warmupFor(d time.Duration) time.Duration {
	return min(2*time.Second, max(d/5, 200*time.Millisecond))
}

// limitedBuffer keeps the first 4 KiB written to it: enough of a child's stderr to say why it failed.
type limitedBuffer struct {
	mu sync.Mutex // exec copies the child's stderr from a goroutine of its own
	b  []byte
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

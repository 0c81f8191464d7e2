package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/workflowservice/v1"
)

// report gathers the figures of a run, printed as one table.
type report struct {
	settings settings
	machine  machine

	start, latency       *startFigures // nil when not run
	ranWait              bool
	waitSDK, waitGateway sample
	readers              []*readersResult
	// cpuColumns are the processes whose CPU per request the table shows, the client first.
	cpuColumns []string
	onCluster  bool
	// unsettled is how many measurement windows opened or closed with Temporal not yet idle.
	unsettled int
}

type machine struct {
	cpus                   int
	cpuModel, goVersion    string
	cli, server, loadStart string
}

func describeMachine(ctx context.Context, st *stack) machine {
	m := machine{cpus: runtime.NumCPU(), goVersion: runtime.Version(), cpuModel: "unknown", server: "unknown", loadStart: loadAverage()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				m.cpuModel = strings.TrimSpace(value)
				break
			}
		}
	}
	if st.onCluster {
		m.cli = "the local cluster: frontend, history, matching and worker as four processes, on PostgreSQL"
	} else if out, err := exec.CommandContext(ctx, st.cli, "--version").Output(); err == nil {
		m.cli = strings.TrimSpace(string(out))
	}
	if info, err := st.client.WorkflowService().GetSystemInfo(ctx, &workflowservice.GetSystemInfoRequest{}); err == nil {
		m.server = info.GetServerVersion()
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load averages: a busy machine slows every path.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

// verdict compares a figure with its target.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func (r report) print(w io.Writer) {
	s := r.settings
	fmt.Fprintf(w, "\nTemporal HTTP gateway benchmark, %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %d x %s; %s; Temporal server %s (%s)\n", r.machine.cpus, r.machine.cpuModel, r.machine.goVersion, r.machine.server, r.machine.cli)
	fmt.Fprintf(w, "load average: %s at start, %s at end\n", r.machine.loadStart, loadAverage())
	readers := fmt.Sprintf(", %d readers over %d executions", s.readers, s.executions)
	if r.onCluster {
		readers = ""
	}
	fmt.Fprintf(w, "settings: concurrency %d, %d round(s) x %s per path (after %s warm-up)%s\n\n",
		s.concurrency, s.rounds, s.duration, warmupFor(s.duration), readers)
	if len(s.gatewayEnv) > 0 {
		fmt.Fprintf(w, "gateway environment added: %s\n\n", s.gatewayEnv.String())
	}
	if r.unsettled > 0 {
		fmt.Fprintf(w, "%d measurement window(s) opened or closed with Temporal still busy after 15s: their CPU figures hold work of another load\n\n", r.unsettled)
	}
	if s.overlay != "" {
		fmt.Fprintf(w, "built with the overlay %s: NOT the checkout's code\n\n", s.overlay)
	}
	if s.cpuProfile != "" {
		fmt.Fprintf(w, "the gateway was profiled during its last return=minimal start round (%s): its CPU figures include the profiler's cost\n\n", s.cpuProfile)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// Every line has a cell for each column, so that tabwriter aligns the table as one block.
	tabs := strings.Repeat("\t", 6+len(r.cpuColumns))
	row := func(name string, x sample) {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\t%.0f/s\t", name, len(x.Latencies), x.Errors,
			ms(x.percentile(0.5)), ms(x.percentile(0.99)), x.throughput())
		for _, name := range r.cpuColumns {
			fmt.Fprintf(tw, "%s\t", us(perRequest(x.CPU[name], x)))
		}
		fmt.Fprintf(tw, "%s\n", us(perRequest(x.CPU.total(), x)))
	}
	if r.start != nil || r.latency != nil || r.ranWait {
		fmt.Fprintf(tw, "\t\t\t\t\t\tCPU per request%s\n", tabs[6:])
		fmt.Fprintf(tw, "path\trequests\terrors\tp50\tp99\tthroughput\t%s\ttotal\n", strings.Join(r.cpuColumns, "\t"))
	}
	for _, f := range []*startFigures{r.start, r.latency} {
		if f == nil {
			continue
		}
		fmt.Fprintf(tw, "start, concurrency %d (Greeting, queue with no worker)%s\n", f.concurrency, tabs)
		for _, p := range f.paths {
			row(p.label, *p.out)
		}
	}
	if r.ranWait {
		fmt.Fprintf(tw, "start and wait for the result, concurrency %d (Greeting, worker running)%s\n", s.concurrency, tabs)
		row(pathSDK+": ExecuteWorkflow + Get", r.waitSDK)
		row(pathGateway+": POST /workflows?wait=30s", r.waitGateway)
	}
	_ = tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tmeasured\ttarget\t")
	if r.onCluster {
		r.clusterChecks(tw)
		_ = tw.Flush()
		return
	}
	for _, f := range []*startFigures{r.start, r.latency} {
		if f == nil {
			continue
		}
		at := fmt.Sprintf(", concurrency %d", f.concurrency)
		sdkPer := perRequest(f.sdk.CPU[clientCPU], f.sdk)
		for _, gw := range []namedSample{{"gateway", f.gateway}, {"gateway (return=minimal)", f.minimal}} {
			if f == r.start {
				ratio := gw.s.throughput() / f.sdk.throughput()
				fmt.Fprintf(tw, "%s / SDK start throughput%s\t%.2f\t>= 0.97\t%s\n", gw.name, at, ratio, verdict(ratio >= 0.97))
				fmt.Fprintf(tw, "%s / Temporal HTTP API start throughput%s\t%.2f\t\t\n", gw.name, at, gw.s.throughput()/f.native.throughput())
			}
			over := gw.s.percentile(0.5) - f.sdk.percentile(0.5)
			overMS := float64(over) / float64(time.Millisecond)
			if f.concurrency == 1 {
				fmt.Fprintf(tw, "p50 start overhead, %s - SDK%s\t%+.2f ms\t<= +1 ms\t%s\n", gw.name, at, overMS, verdict(over <= time.Millisecond))
			} else {
				// At a concurrency the dev server cannot keep up with, p50 is time spent queueing there.
				fmt.Fprintf(tw, "p50 start overhead, %s - SDK%s\t%+.2f ms\t\t\n", gw.name, at, overMS)
			}
			fmt.Fprintf(tw, "p50 start overhead, %s - Temporal HTTP API%s\t%+.2f ms\t\t\n", gw.name, at,
				float64(gw.s.percentile(0.5)-f.native.percentile(0.5))/float64(time.Millisecond))
			gwPer := perRequest(gw.s.CPU.gateways(), gw.s)
			fmt.Fprintf(tw, "CPU per start, %s / bare SDK client%s\t%s / %s = %.2f\t\t\n",
				gw.name, at, us(gwPer), us(sdkPer), float64(gwPer)/float64(sdkPer))
			plainPer := perRequest(f.sdkPlain.CPU[clientCPU], f.sdkPlain)
			fmt.Fprintf(tw, "CPU per start, %s / bare SDK client without gzip%s\t%s / %s = %.2f\t\t\n",
				gw.name, at, us(gwPer), us(plainPer), float64(gwPer)/float64(plainPer))
		}
		fmt.Fprintf(tw, "gateway peak RSS so far\t%s\t\t\n", mb(f.gatewayPeakAfter))
	}
	if r.ranWait {
		ratio := r.waitGateway.throughput() / r.waitSDK.throughput()
		fmt.Fprintf(tw, "gateway / SDK start-and-wait throughput\t%.2f\t>= 0.97\t%s\n", ratio, verdict(ratio >= 0.97))
		over := r.waitGateway.percentile(0.5) - r.waitSDK.percentile(0.5)
		fmt.Fprintf(tw, "p50 start-and-wait overhead, gateway - SDK\t%+.2f ms\t\t\n", float64(over)/float64(time.Millisecond))
		gwTemporal, sdkTemporal := perRequest(r.waitGateway.CPU["Temporal"], r.waitGateway), perRequest(r.waitSDK.CPU["Temporal"], r.waitSDK)
		fmt.Fprintf(tw, "dev-server CPU per execution, gateway / SDK path\t%s / %s\t<= SDK\t%s\n", us(gwTemporal), us(sdkTemporal),
			verdict(gwTemporal <= sdkTemporal))
	}
	for _, rr := range r.readers {
		all := "all waiting after " + rr.allInFlight.Round(time.Millisecond).String()
		if rr.allInFlight == 0 {
			all = fmt.Sprintf("at most %d waiting at once", rr.inFlight)
		}
		form := "GET {Location}&wait=60s, with the run id"
		if r.settings.readersByID {
			form = "GET /workflows/{id}?wait=60s, the latest run"
		}
		fmt.Fprintf(tw, "%d waiting readers over %d executions, %s, %d started per second (%s)\t%s; %d answered at the close, %d failed\t\t\n",
			rr.readers, rr.executions, rr.protocol, rr.rate, form, all, rr.answered, rr.failed)
		if rr.failed > 0 {
			fmt.Fprintf(tw, "  first failure\t%s\t\t\n", rr.firstFailure)
		}
		allWaited := rr.allInFlight > 0 && rr.answered == rr.readers
		perReader := (rr.rssWaiting - rr.rssBefore) / int64(rr.readers)
		if rr.protocol == readersHTTP1 {
			fmt.Fprintf(tw, "  gateway memory per waiting reader (RSS %s before, %s waiting)\t%.1f KB\t<= 45 KB\t%s\n",
				mb(rr.rssBefore), mb(rr.rssWaiting), float64(perReader)/1024, verdict(perReader <= 45<<10 && allWaited))
			fmt.Fprintf(tw, "  gateway RSS with them waiting (peak of this gateway)\t%s (%s)\t\t\n", mb(rr.rssWaiting), mb(rr.peakRSS))
		} else {
			fmt.Fprintf(tw, "  gateway memory per waiting reader (RSS %s before, %s waiting)\t%.1f KB\t\t\n",
				mb(rr.rssBefore), mb(rr.rssWaiting), float64(perReader)/1024)
			fmt.Fprintf(tw, "  gateway RSS with them waiting (peak of this gateway)\t%s (%s)\t<= 300 MB\t%s\n", mb(rr.rssWaiting), mb(rr.peakRSS),
				verdict(rr.peakRSS <= 300<<20 && allWaited))
		}
		fmt.Fprintf(tw, "  of which Go heap in use, stacks in use, goroutines\t%s, %s, %d\t\t\n", mb(rr.heapInUse), mb(rr.stackInUse), rr.goroutines)
		perExec := float64(rr.pollsInFlight) / float64(rr.executions)
		fmt.Fprintf(tw, "  Temporal long polls in flight per execution, readers waiting\t%.2f (%d)\t<= 1\t%s\n", perExec, rr.pollsInFlight,
			verdict(perExec <= 1 && allWaited))
		fmt.Fprintf(tw, "  Temporal long polls begun in the scenario, renewals included\t%d\t\t\n", rr.longPolls)
		fmt.Fprintf(tw, "  other Temporal calls of the readers\t%d Describe, %d other\t\t\n", rr.describes, rr.calls)
		fmt.Fprintf(tw, "  Temporal calls for one GET of a closed run by runId\t%d (HTTP %d)\t0\t%s\n", rr.closedReadCalls, rr.closedReadStatus, verdict(rr.closedReadCalls == 0 && rr.closedReadStatus == 200))
	}
	_ = tw.Flush()
}

// clusterChecks are the checks of a run on the cluster: the gateway against the SDK, through one
// gateway and through two, and what the second gateway changes.
func (r report) clusterChecks(tw io.Writer) {
	for _, f := range []*startFigures{r.start, r.latency} {
		if f == nil {
			continue
		}
		at := fmt.Sprintf(", concurrency %d", f.concurrency)
		sdkPer := perRequest(f.sdk.CPU[clientCPU], f.sdk)
		for _, gw := range []namedSample{{"one gateway", f.gateway}, {"two gateways", f.twoGateways}} {
			ratio := gw.s.throughput() / f.sdk.throughput()
			target, met := "", ""
			if f.concurrency > 1 {
				target, met = ">= 0.97", verdict(ratio >= 0.97)
			}
			fmt.Fprintf(tw, "%s / SDK start throughput%s\t%.2f\t%s\t%s\n", gw.name, at, ratio, target, met)
			over := gw.s.percentile(0.5) - f.sdk.percentile(0.5)
			target, met = "", ""
			if f.concurrency == 1 {
				target, met = "<= +1 ms", verdict(over <= time.Millisecond)
			}
			fmt.Fprintf(tw, "p50 start overhead, %s - SDK%s\t%+.2f ms\t%s\t%s\n", gw.name, at, float64(over)/float64(time.Millisecond), target, met)
			gwPer := perRequest(gw.s.CPU.gateways(), gw.s)
			fmt.Fprintf(tw, "CPU per start of the gateways, %s / bare SDK client%s\t%s / %s = %.2f\t\t\n",
				gw.name, at, us(gwPer), us(sdkPer), float64(gwPer)/float64(sdkPer))
		}
		fmt.Fprintf(tw, "two gateways / one gateway start throughput%s\t%.2f\t\t\n", at, f.twoGateways.throughput()/f.gateway.throughput())
		fmt.Fprintf(tw, "gateway (one) / Temporal HTTP API start throughput%s\t%.2f\t\t\n", at, f.gateway.throughput()/f.native.throughput())
	}
}

// namedSample is one path's sample under the name the checks give it.
type namedSample struct {
	name string
	s    sample
}

func perRequest(cpu time.Duration, s sample) time.Duration {
	if n := len(s.Latencies) + s.Errors; n > 0 {
		return cpu / time.Duration(n)
	}
	return 0
}

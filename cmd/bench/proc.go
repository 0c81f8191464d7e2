package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which Linux fixes at
// 100 for user space on every architecture Go supports.
const clockTick = 10 * time.Millisecond

// statFields are the fields of /proc/<pid>/stat after the command name, field 2, which is in
// parentheses and may hold spaces: field n of the line is statFields[n-3].
func statFields(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.Fields(rest), nil
}

// cpuTime is the user plus system CPU time the process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	fields, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	// utime and stime are fields 14 and 15.
	return sumTicks(pid, fields[11:13])
}

// memory reads the process's resident set now (VmRSS) and its peak so far (VmHWM), in bytes.
func memory(pid int) (rss, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}

// childByExe finds the child process of this one that runs exe: the dev server, which the SDK's
// test suite starts without telling its pid.
func childByExe(exe string) (int, error) {
	want, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return 0, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	self := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// Field 4 is the parent's pid.
		if fields, err := statFields(pid); err != nil || len(fields) < 2 || fields[1] != self {
			continue
		}
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && got == want {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child process runs %s", exe)
}

// clientCPU is the name in a cpuSet of the process that sent the load: the SDK client process, or
// this process for the HTTP paths.
const clientCPU = "client"

// cpuSet is the CPU time each process spent on a load, by the name the table gives it: clientCPU
// and the stack's processes.
type cpuSet map[string]time.Duration

func (c cpuSet) add(o cpuSet) cpuSet {
	out := cpuSet{}
	for k, v := range c {
		out[k] += v
	}
	for k, v := range o {
		out[k] += v
	}
	return out
}

func (c cpuSet) since(before cpuSet) cpuSet {
	out := cpuSet{}
	for k, v := range c {
		out[k] = v - before[k]
	}
	return out
}

// sum is the CPU time of the named processes together.
func (c cpuSet) sum(names ...string) time.Duration {
	var total time.Duration
	for _, name := range names {
		total += c[name]
	}
	return total
}

// gateways is the CPU time of the gateways together: "gateway" on the dev server, "gateway-1"
// and "gateway-2" on the cluster.
func (c cpuSet) gateways() time.Duration {
	var total time.Duration
	for name, v := range c {
		if strings.HasPrefix(name, "gateway") {
			total += v
		}
	}
	return total
}

// total is the CPU time of every process in the set.
func (c cpuSet) total() time.Duration {
	var total time.Duration
	for _, v := range c {
		total += v
	}
	return total
}

// treeCPU is the CPU time so far of each named process and all its descendants, roots by name,
// read in one pass over /proc: the user and system time of every live process of the tree, plus
// cutime and cstime, the time of the children each has reaped. A process that has ended is so
// counted in its parent's figure. PostgreSQL's backends are children of the postmaster (each in a
// session of its own, so a process group would miss them): the postmaster's tree holds them all,
// those running and those gone.
func treeCPU(roots map[string]int) (cpuSet, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	ticks := map[int]time.Duration{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A process that ends while the scan runs is skipped: its time is in its parent's cutime
		// from the next read on.
		fields, err := statFields(pid)
		if err != nil || len(fields) < 15 {
			continue
		}
		// Field 4 is the parent's pid; utime, stime, cutime and cstime are fields 14 to 17.
		ppid, err := strconv.Atoi(fields[1])
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		if ticks[pid], err = sumTicks(pid, fields[11:15]); err != nil {
			return nil, err
		}
		children[ppid] = append(children[ppid], pid)
	}
	out := cpuSet{}
	for name, root := range roots {
		if _, ok := ticks[root]; !ok {
			return nil, fmt.Errorf("%s (pid %d) is no longer running", name, root)
		}
		for todo := []int{root}; len(todo) > 0; {
			pid := todo[len(todo)-1]
			todo = append(todo[:len(todo)-1], children[pid]...)
			out[name] += ticks[pid]
		}
	}
	return out, nil
}

// sumTicks adds up clock-tick fields of /proc/<pid>/stat.
func sumTicks(pid int, fields []string) (time.Duration, error) {
	var ticks int64
	for _, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// readCPU reads the CPU time so far of this process, as the client, and of the stack's processes.
func (st *stack) readCPU() (cpuSet, error) {
	c, err := st.cpuOf()
	if err != nil {
		return nil, err
	}
	if c[clientCPU], err = cpuTime(os.Getpid()); err != nil {
		return nil, err
	}
	return c, nil
}

// temporalCPU is the CPU time so far of Temporal's processes together, its database included.
func (st *stack) temporalCPU() (time.Duration, error) {
	c, err := st.cpuOf()
	if err != nil {
		return 0, err
	}
	return c.sum(st.temporalProcs...), nil
}

// settle waits, up to 15s, until Temporal (the dev server, or the cluster's services and
// PostgreSQL together) is idle, under a tenth of a core, so that what one load left it doing is
// not counted against the next.
func (st *stack) settle(ctx context.Context) error {
	const (
		window = 250 * time.Millisecond
		idle   = window / 10
	)
	prev, err := st.temporalCPU()
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(window):
		}
		now, err := st.temporalCPU()
		if err != nil {
			return err
		}
		if now-prev <= idle {
			return nil
		}
		prev = now
	}
	st.unsettled++ // still busy: measure anyway; the report says how often
	return nil
}

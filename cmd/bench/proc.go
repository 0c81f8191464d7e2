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
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
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

// cpuSet is the CPU time each process spent on a load: the client that sent it (the SDK client
// process, or this process for the HTTP paths), the gateway, and the Temporal dev server.
type cpuSet struct{ client, gateway, temporal time.Duration }

func (c cpuSet) add(o cpuSet) cpuSet {
	return cpuSet{c.client + o.client, c.gateway + o.gateway, c.temporal + o.temporal}
}

func (c cpuSet) since(before cpuSet) cpuSet {
	return cpuSet{c.client - before.client, c.gateway - before.gateway, c.temporal - before.temporal}
}

// readCPU reads the CPU time so far of the three processes; client is this process.
func (st *stack) readCPU() (cpuSet, error) {
	var c cpuSet
	var err error
	if c.client, err = cpuTime(os.Getpid()); err != nil {
		return c, err
	}
	if c.gateway, err = cpuTime(st.gateway.pid()); err != nil {
		return c, err
	}
	c.temporal, err = cpuTime(st.devPID)
	return c, err
}

// settle waits, up to 15s, until the dev server is idle (under a tenth of a core), so that what
// one load left it doing is not counted against the next.
func (st *stack) settle(ctx context.Context) error {
	const (
		window = 250 * time.Millisecond
		idle   = window / 10
	)
	prev, err := cpuTime(st.devPID)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(window):
		}
		now, err := cpuTime(st.devPID)
		if err != nil {
			return err
		}
		if now-prev <= idle {
			return nil
		}
		prev = now
	}
	return nil // still busy: measure anyway; the figures say how busy
}

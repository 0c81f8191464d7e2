package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// sample is what a closed-loop load run measured: each of `concurrency` loops sends its next
// request as soon as the previous one answers, so throughput is what the path sustains.
type sample struct {
	Latencies []time.Duration `json:"latencies"`
	Errors    int             `json:"errors"`
	FirstErr  string          `json:"firstError,omitempty"`
	Elapsed   time.Duration   `json:"elapsed"`
	// CPU is what the processes spent on it, when measured.
	CPU cpuSet `json:"-"`
}

// load runs op from concurrency loops until d has passed, and records each call's latency.
func load(ctx context.Context, concurrency int, d time.Duration, op func(ctx context.Context, loop, i int) error) sample {
	var (
		mu  sync.Mutex
		out sample
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for loop := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var errs int
			var firstErr string
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t := time.Now()
				if err := op(ctx, loop, i); err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			out.Latencies = append(out.Latencies, lat...)
			out.Errors += errs
			if out.FirstErr == "" {
				out.FirstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.Elapsed = time.Since(start)
	return out
}

// merge adds another round's sample.
func (s *sample) merge(o sample) {
	s.Latencies = append(s.Latencies, o.Latencies...)
	s.Errors += o.Errors
	if s.FirstErr == "" {
		s.FirstErr = o.FirstErr
	}
	s.Elapsed += o.Elapsed
	s.CPU = s.CPU.add(o.CPU)
}

func (s sample) throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(len(s.Latencies)) / s.Elapsed.Seconds()
}

// percentile is the nearest-rank percentile, p in (0, 1].
func (s sample) percentile(p float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	sorted := slices.Clone(s.Latencies)
	slices.Sort(sorted)
	return sorted[max(0, int(math.Ceil(p*float64(len(sorted))))-1)]
}

func (s sample) check(path string) error {
	if len(s.Latencies) == 0 {
		return fmt.Errorf("%s: no request succeeded (%d errors; first: %s)", path, s.Errors, s.FirstErr)
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
)

// The ways readers reach the gateway.
const (
	// readersHTTP1 gives every reader a connection of its own, kept alive, as separate clients
	// would.
	readersHTTP1 = "HTTP/1.1, a connection per reader"
	// readersH2C carries the readers on h2cConnections HTTP/2 connections without TLS, as a proxy
	// in front of the gateway would.
	readersH2C     = "HTTP/2 (h2c), 100 connections"
	h2cConnections = 100
)

// readersResult is what the readers scenario measured of the gateway.
type readersResult struct {
	protocol            string
	readers, executions int
	rate                int // readers started per second
	answered            int // readers answered with the execution closed
	failed              int // readers answered otherwise
	firstFailure        string
	allInFlight         time.Duration // time until every reader was waiting (0: never all at once)
	inFlight            int           // most readers seen waiting at once
	rssBefore           int64         // gateway VmRSS before the readers came
	rssWaiting          int64         // gateway VmRSS with the readers waiting
	// What the gateway's Go runtime reported with the readers waiting.
	goroutines, stackInUse, heapInUse int64
	peakRSS                           int64 // gateway VmHWM after the scenario: its peak over the whole run
	longPolls                         int   // long polls the gateway began during the scenario, renewals included
	pollsInFlight                     int   // long polls in flight with the readers waiting
	describes                         int   // DescribeWorkflowExecution calls during the scenario
	calls                             int   // every other call during the scenario
	closedReadCalls                   int   // Temporal calls made for one GET of a closed run by run id
	closedReadStatus                  int
}

// benchReaders runs the readers scenario over HTTP/1.1 and over h2c, each with a fresh gateway.
func benchReaders(ctx context.Context, st *stack, s settings, rep *report, progress io.Writer) error {
	for _, protocol := range []string{readersHTTP1, readersH2C} {
		if err := st.restartGateway(ctx); err != nil {
			return err
		}
		r, err := readersOver(ctx, st, s, protocol, progress)
		if err != nil {
			return fmt.Errorf("%s: %w", protocol, err)
		}
		rep.readers = append(rep.readers, r)
	}
	return nil
}

// readersClient is how a reader reaches the gateway.
func readersClient(protocol string) func(i int) *http.Client {
	if protocol == readersHTTP1 {
		// Requests in flight never share an HTTP/1.1 connection: each reader has its own.
		c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 1 << 16}}
		return func(int) *http.Client { return c }
	}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	clients := make([]*http.Client, h2cConnections)
	for i := range clients {
		clients[i] = &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true, Protocols: &h2c, MaxConnsPerHost: 1}}
	}
	return func(i int) *http.Client { return clients[i%len(clients)] }
}

// readersOver starts executions that stay running (Sleep on the idle queue), holds `readers`
// GET ?wait= requests on them, spread evenly, then terminates the executions so every wait ends
// with the close; the gateway's /metrics tells how many Temporal calls that took. Each reader
// asks for the run by its Location (workflow id and run id), or with -readers-by-id for the
// latest run of the workflow id.
func readersOver(ctx context.Context, st *stack, s settings, protocol string, progress io.Writer) (*readersResult, error) {
	fmt.Fprintf(progress, "bench: readers over %s: starting %d executions ...\n", protocol, s.executions)
	prefix := fmt.Sprintf("readers-%d", time.Now().UnixNano())
	runs := make([]client.WorkflowRun, s.executions)
	if err := forEach(ctx, s.executions, 32, func(ctx context.Context, i int) error {
		run, err := st.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: idleQueue},
			"Sleep", map[string]int{"seconds": 3600})
		runs[i] = run
		return err
	}); err != nil {
		return nil, err
	}
	before, err := scrape(st.gatewayURLs[0])
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(progress, "bench: readers over %s: %d readers waiting ...\n", protocol, s.readers)
	r := readersResult{protocol: protocol, readers: s.readers, executions: s.executions, rate: s.readerRate}
	if r.rssBefore, _, err = memory(st.gateway.pid()); err != nil {
		return nil, err
	}
	clientOf := readersClient(protocol)
	c := clientOf(0)
	readCtx, cancelReads := context.WithCancel(ctx)
	defer cancelReads()
	var answered, failed atomic.Int64
	var firstErr atomic.Pointer[string]
	var wg sync.WaitGroup
	start := time.Now()
	for i := range s.readers {
		// Readers arrive at a steady rate, as clients would: each first reads the execution
		// (one Describe), and a burst of thousands at once outruns what the dev server answers
		// within the gateway's Temporal timeout.
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(s.readerRate))))
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := runs[i%s.executions]
			// A client that started the run follows its Location, which names the run.
			target := st.gatewayURLs[0] + "/workflows/" + url.PathEscape(run.GetID()) + "?runId=" + url.QueryEscape(run.GetRunID()) + "&wait=60s"
			if s.readersByID {
				target = st.gatewayURLs[0] + "/workflows/" + url.PathEscape(run.GetID()) + "?wait=60s"
			}
			body, status, err := get(readCtx, clientOf(i), target)
			switch {
			case err == nil && status == http.StatusOK && bytes.Contains(body, []byte(`"status":"TERMINATED"`)):
				answered.Add(1)
			case readCtx.Err() == nil:
				failed.Add(1)
				msg := fmt.Sprintf("GET %s: %d %v %.200s", target, status, err, body)
				firstErr.CompareAndSwap(nil, &msg)
			}
		}()
	}
	waiting := map[string]string{"route": "/workflows/{workflowId}", "method": "GET"}
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
		m, err := scrape(st.gatewayURLs[0])
		if err != nil {
			return nil, err
		}
		if n := int(m.sum("gateway_http_requests_in_flight", waiting)); n > r.inFlight {
			r.inFlight = n
		}
		if r.inFlight >= s.readers {
			r.allInFlight = time.Since(start)
			break
		}
		if int(failed.Load())+r.inFlight >= s.readers {
			break // some failed: all that will ever wait are waiting
		}
		time.Sleep(250 * time.Millisecond)
	}
	if r.rssWaiting, _, err = memory(st.gateway.pid()); err != nil {
		return nil, err
	}
	m, err := scrape(st.gatewayURLs[0])
	if err != nil {
		return nil, err
	}
	r.pollsInFlight = m.longPollsInFlight()
	r.goroutines = int64(m.sum("go_goroutines", nil))
	r.stackInUse = int64(m.sum("go_memstats_stack_inuse_bytes", nil))
	r.heapInUse = int64(m.sum("go_memstats_heap_inuse_bytes", nil))
	if s.memProfile != "" {
		file := s.memProfile
		if protocol == readersH2C {
			file += ".h2c"
		}
		if err := fetchProfile(ctx, st.pprofAddr, "heap", file); err != nil {
			return nil, err
		}
		if err := fetchProfile(ctx, st.pprofAddr, "goroutine", file+".goroutine"); err != nil {
			return nil, err
		}
	}

	fmt.Fprintf(progress, "bench: readers over %s: terminating the executions ...\n", protocol)
	if err := forEach(ctx, s.executions, 32, func(ctx context.Context, i int) error {
		return st.client.TerminateWorkflow(ctx, runs[i].GetID(), runs[i].GetRunID(), "benchmark done")
	}); err != nil {
		return nil, err
	}
	wg.Wait()
	r.answered, r.failed = int(answered.Load()), int(failed.Load())
	if msg := firstErr.Load(); msg != nil {
		r.firstFailure = *msg
	}
	after, err := scrape(st.gatewayURLs[0])
	if err != nil {
		return nil, err
	}
	r.longPolls = temporalCallsSince(before, after, temporalLongPolls, "")
	r.describes = temporalCallsSince(before, after, temporalCalls, "DescribeWorkflowExecution")
	r.calls = temporalCallsSince(before, after, temporalCalls, "") - r.describes
	if _, r.peakRSS, err = memory(st.gateway.pid()); err != nil {
		return nil, err
	}

	// A closed run, read by run id as Location names it: the gateway has it already.
	before = after
	_, r.closedReadStatus, err = get(ctx, c, st.gatewayURLs[0]+"/workflows/"+url.PathEscape(runs[0].GetID())+"?runId="+url.QueryEscape(runs[0].GetRunID()))
	if err != nil {
		return nil, err
	}
	if after, err = scrape(st.gatewayURLs[0]); err != nil {
		return nil, err
	}
	r.closedReadCalls = temporalCallsSince(before, after, temporalCalls, "") + temporalCallsSince(before, after, temporalLongPolls, "")
	return &r, nil
}

func get(ctx context.Context, c *http.Client, target string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

// forEach runs f for 0..n-1 from `loops` goroutines and returns the first error.
func forEach(ctx context.Context, n, loops int, f func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	errs := make(chan error, loops)
	for range loops {
		go func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					errs <- nil
					return
				}
				if err := f(ctx, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var first error
	for range loops {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

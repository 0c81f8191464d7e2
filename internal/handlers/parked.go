package handlers

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

// A read that waits (GET /workflows/{id}?wait=) on a running execution is parked: over HTTP/1.x
// the handler takes the connection over and returns, so that no goroutine stack and no net/http
// buffers are held while the execution runs. What stays is the connection, a timer, a place in
// the run's shared long poll, and one small goroutine that notices a client that hangs up. The
// answer is written on the connection when the run closes, the wait passes or the gateway
// drains, with Connection: close, since net/http cannot take a connection back.
//
// The request is then answered as it would have been in the handler: the same execution, ETag,
// 304 and problems. The access log and the request metrics see it when it is answered
// (telemetry.Parking). Requests that cannot be taken over (HTTP/2, a traced request, a gateway
// that is draining) wait in their handler as before.

// parkedGet is a GET with wait on a running execution, answered later.
type parkedGet struct {
	s           *Server
	ctx         context.Context // the request's, while the handler runs
	exec        gen.Execution   // as read when the request came
	wait        time.Duration
	runID       string // as the request named it
	ifNoneMatch *string
	// slot is the request's place among the waits held open, given back once it is answered,
	// whether here or on the connection.
	slot *waitSlot

	// Set when the connection is taken over; ready is closed once they all are.
	r       *http.Request // with a context that outlives the handler
	conn    net.Conn
	header  http.Header // what the middlewares set, sent with the answer
	parking *telemetry.Parking
	poll    *longPoll // nil when the gateway drained before it joined
	pollID  int
	timer   *time.Timer
	ready   chan struct{}
	once    sync.Once
}

// VisitGetWorkflowResponse answers in the handler, for a request that could not be parked: it
// waits as every wait did before parking.
func (p *parkedGet) VisitGetWorkflowResponse(w http.ResponseWriter) error {
	defer p.slot.release()
	exec, err := p.s.awaitClose(p.ctx, p.exec, p.wait)
	if err != nil {
		return err
	}
	resp, err := p.s.getAnswer(exec, p.runID, p.ifNoneMatch)
	if err != nil {
		return err
	}
	return resp.VisitGetWorkflowResponse(w)
}

func (p *parkedGet) key() runKey { return runKey{p.exec.WorkflowId, p.exec.RunId} }

// parkWaits is the strict middleware that parks what GetWorkflow asks to park.
func (s *Server) parkWaits(f gen.StrictHandlerFunc, operationID string) gen.StrictHandlerFunc {
	if operationID != "GetWorkflow" {
		return f
	}
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, request any) (any, error) {
		resp, err := f(ctx, w, r, request)
		if p, ok := resp.(*parkedGet); ok && s.park(w, r, p) {
			return nil, nil // answered later, on the connection
		}
		return resp, err
	}
}

// canPark says whether a wait of the request with ctx may be parked.
func (s *Server) canPark(ctx context.Context) bool {
	return s.opts.ParkedWaits != nil && telemetry.ParkingOf(ctx) != nil
}

// park takes the connection of r over and arranges for p to be answered on it. It returns false,
// having changed nothing, when the connection cannot be taken over or the gateway is draining.
func (s *Server) park(w http.ResponseWriter, r *http.Request, p *parkedGet) bool {
	parking := telemetry.ParkingOf(r.Context())
	if parking == nil || s.opts.ParkedWaits == nil {
		return false
	}
	// Counted before the connection is taken: http.Server.Shutdown stops tracking a connection
	// once it is, and the gateway's shutdown then waits on this count.
	s.parkMu.Lock()
	if s.drained {
		s.parkMu.Unlock()
		return false
	}
	s.opts.ParkedWaits.Add(1)
	s.parkMu.Unlock()
	header := w.Header().Clone()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil { // HTTP/2, or a writer that cannot
		s.opts.ParkedWaits.Done()
		return false
	}
	parking.Park()
	// The request outlives its handler, but the router recycles its route context once the
	// handler returns: the workflow id is recorded where the log lines find it first, and the
	// route context is hidden from what runs later.
	ctx := context.WithoutCancel(r.Context())
	telemetry.SetWorkflowID(ctx, p.exec.WorkflowId)
	p.r = r.WithContext(context.WithValue(ctx, chi.RouteCtxKey, (*chi.Context)(nil)))
	p.conn, p.header, p.parking = conn, header, parking
	p.ready = make(chan struct{})

	s.parkMu.Lock()
	drained := s.drained
	if !drained {
		s.parked[p] = struct{}{}
	}
	s.parkMu.Unlock()
	p.timer = time.AfterFunc(p.wait, func() { p.end(endWaitPassed) })
	if !drained {
		p.poll, p.pollID = s.waiter.joinNotify(p.key(), func() { p.end(endRunClosed) })
	}
	go p.watchClient()
	close(p.ready)
	if drained {
		go p.end(endWaitPassed)
	}
	return true
}

// drainParked answers every parked wait at once, with the execution as it is: the gateway is
// shutting down.
func (s *Server) drainParked() {
	s.parkMu.Lock()
	s.drained = true
	parked := make([]*parkedGet, 0, len(s.parked))
	for p := range s.parked {
		parked = append(parked, p)
	}
	s.parkMu.Unlock()
	for _, p := range parked {
		go p.end(endWaitPassed)
	}
}

type endReason int

const (
	endRunClosed  endReason = iota // the long poll is done: the run closed, or the poll failed
	endWaitPassed                  // the wait ran out, or the gateway drains
	endClientGone                  // the client hung up
)

// end answers the parked request, once, for the first reason that comes.
func (p *parkedGet) end(reason endReason) {
	<-p.ready
	p.once.Do(func() {
		s := p.s
		defer func() {
			s.parkMu.Lock()
			delete(s.parked, p)
			s.parkMu.Unlock()
			s.opts.ParkedWaits.Done()
			p.slot.release()
		}()
		p.timer.Stop()
		var closed gen.Execution
		var pollErr error
		if reason == endRunClosed {
			// Only now is the poll done and its result final: on any other path its goroutine
			// may still be writing it.
			closed, pollErr = p.poll.exec, p.poll.err
		}
		if p.poll != nil {
			s.waiter.leaveNotify(p.key(), p.poll, p.pollID)
		}
		if reason == endClientGone {
			_ = p.conn.Close()
			p.parking.Finish(0)
			return
		}
		rw := &bufferedResponse{header: p.header}
		if err := p.answer(rw, reason == endRunClosed, closed, pollErr); err != nil {
			rw = &bufferedResponse{header: p.header}
			s.pw.writeError(rw, p.r, err)
		}
		// Given back before the answer goes out: a client that sends its next wait as soon as it
		// reads this one must find its place free.
		p.slot.release()
		p.parking.Finish(rw.send(p.conn))
	})
}

// answer writes the answer to rw: the execution as the long poll finished it when the run
// closed, or as a fresh read finds it. No middleware guards these goroutines, so a panic becomes
// an error, as recoverPanics makes it for a handler.
func (p *parkedGet) answer(rw *bufferedResponse, runClosed bool, closed gen.Execution, pollErr error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	s := p.s
	exec, err := closed, pollErr
	if !runClosed {
		ctx, cancel := context.WithTimeout(p.r.Context(), s.opts.TemporalTimeout)
		defer cancel()
		exec, err = s.read(ctx, p.exec.WorkflowId, p.exec.RunId)
	}
	if err != nil {
		return err
	}
	resp, err := s.getAnswer(exec, p.runID, p.ifNoneMatch)
	if err != nil {
		return err
	}
	return resp.VisitGetWorkflowResponse(rw)
}

// watchClient reads the connection until it fails: a client that hangs up ends its wait at once.
// Once the answer is sent, the client closing its end, or the read deadline that send sets, ends
// it, and the connection is closed.
func (p *parkedGet) watchClient() {
	var b [1]byte
	for {
		if _, err := p.conn.Read(b[:]); err != nil {
			p.end(endClientGone)
			_ = p.conn.Close()
			return
		}
	}
}

// bufferedResponse is an http.ResponseWriter that keeps the answer for send.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// send writes the answer as HTTP/1.1 and half-closes the connection: net/http no longer serves
// it, so it is not kept alive. It returns the status sent.
func (b *bufferedResponse) send(conn net.Conn) int {
	status := cmp.Or(b.status, http.StatusOK)
	h := b.header
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Connection", "close")
	bodyless := status == http.StatusNotModified
	if bodyless {
		h.Del("Content-Length")
	} else {
		h.Set("Content-Length", strconv.Itoa(b.body.Len()))
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %03d %s\r\n", status, http.StatusText(status))
	_ = h.Write(&out)
	out.WriteString("\r\n")
	if !bodyless {
		out.Write(b.body.Bytes())
	}
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(out.Bytes()); err != nil {
		_ = conn.Close()
		return status
	}
	// A half-close lets the client read the whole answer before the connection goes; the
	// watcher closes it when the client does, or after a grace period.
	if tcp, ok := conn.(interface{ CloseWrite() error }); ok && tcp.CloseWrite() == nil {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		return status
	}
	_ = conn.Close()
	return status
}

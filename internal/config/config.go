// Package config is the one package that reads the environment: each command's run calls one of
// its loaders once, with the getenv it was given, and passes the validated struct down. There is
// a struct with defaults per deployable and command: Gateway, Worker, Healthcheck (the
// healthcheck subcommands), Dev (the local launcher) and TemporalCLI (the launcher, the benchmark
// and the end-to-end tests). WorkerTestHooks, for the end-to-end tests only, is kept apart from
// Worker. An invalid value is reported with its variable's name, every one at once.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Log says how the process logs.
type Log struct {
	Level  slog.Level // LOG_LEVEL: debug, info, warn, error
	Format string     // LOG_FORMAT: json or text
}

// Gateway is the REST gateway's configuration.
type Gateway struct {
	Temporal Temporal
	Log      Log
	// HTTPAddr is the listen address (GATEWAY_HTTP_ADDR).
	HTTPAddr string
	// AllowAnyWorkflowType passes types the workers are not known to host through to Temporal on
	// the deployment's own task queue (GATEWAY_ALLOW_ANY_WORKFLOW_TYPE); other queues pass any type.
	AllowAnyWorkflowType bool
	// TaskQueues are the task queues a start may name besides Temporal.TaskQueue, where this
	// deployment's workers poll (GATEWAY_TASK_QUEUES, comma-separated); AnyTaskQueue (the list is
	// "*") allows every queue. Principals with scope admin may name any queue regardless.
	TaskQueues   []string
	AnyTaskQueue bool
	// MaxBodyBytes bounds request bodies (GATEWAY_MAX_BODY_BYTES); 2 MiB is Temporal's payload ceiling.
	MaxBodyBytes int64
	// TemporalTimeout bounds each Temporal call of a request (GATEWAY_TEMPORAL_TIMEOUT).
	TemporalTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may take after SIGTERM (GATEWAY_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// MaxWait caps the `wait` a request may ask for (GATEWAY_MAX_WAIT).
	MaxWait time.Duration
	// ConcurrentWaitsPerCaller bounds the waits (wait > 0) and event streams one caller may hold
	// open at once (GATEWAY_CONCURRENT_WAITS_PER_CALLER); ConcurrentWaits bounds them in total
	// (GATEWAY_CONCURRENT_WAITS).
	ConcurrentWaitsPerCaller int
	ConcurrentWaits          int
	// ClosedCacheSize bounds the closed executions kept to answer reads (GATEWAY_CLOSED_CACHE_SIZE).
	ClosedCacheSize int64
	// Guard holds CORS, the rate limit, trusted proxies, connection timeouts and HSTS.
	Guard Guard
	// Telemetry says where traces go and what the process is called in them.
	Telemetry Telemetry
	// Auth says which credentials the gateway accepts, if any.
	Auth Auth
}

// HostsRestricted says whether the gateway answers API requests only when they are addressed to
// a loopback name (localhost, 127.0.0.1, [::1]) or one of Guard.AllowedHosts. It does whenever
// it runs open, since without credentials a page that rebinds its own name to the gateway's
// address could drive it, and whenever names are listed; never when the list is *.
func (g Gateway) HostsRestricted() bool {
	if len(g.Guard.AllowedHosts) == 1 && g.Guard.AllowedHosts[0] == "*" {
		return false
	}
	return !g.Auth.Enabled() || len(g.Guard.AllowedHosts) > 0
}

// Worker is the worker's configuration.
type Worker struct {
	Temporal Temporal
	Log      Log
	// ShutdownTimeout is how long running activities may take to finish on stop (WORKER_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// Telemetry says where traces go, what the process is called in them and where /metrics is served.
	Telemetry Telemetry
	// BankFile keeps MoneyTransfer's ledger across restarts (WORKER_BANK_FILE); empty keeps it in memory.
	BankFile string
	// The hold of every ledger movement that the fault tests use is a test hook, not a setting:
	// see WorkerTestHooks.
}

// Defaults shared by every deployable.
const (
	DefaultTemporalAddress = "127.0.0.1:7233"
	DefaultNamespace       = "default"
	DefaultTaskQueue       = "http-gateway"
	DefaultHTTPAddr        = "127.0.0.1:8080"
)

// LoadGateway reads the gateway's configuration.
func LoadGateway(getenv func(string) string) (Gateway, error) {
	r := reader{getenv: getenv}
	cfg := r.gateway()
	return cfg, r.err()
}

func (r *reader) gateway() Gateway {
	cfg := Gateway{
		Temporal:             r.temporal(GatewayGRPCCompression),
		Log:                  r.log(),
		HTTPAddr:             r.httpAddr(),
		AllowAnyWorkflowType: r.boolean("GATEWAY_ALLOW_ANY_WORKFLOW_TYPE", false),
		MaxBodyBytes:         r.integer("GATEWAY_MAX_BODY_BYTES", 2<<20),
		TemporalTimeout:      r.duration("GATEWAY_TEMPORAL_TIMEOUT", 10*time.Second),
		ShutdownTimeout:      r.duration("GATEWAY_SHUTDOWN_TIMEOUT", 15*time.Second),
		MaxWait:              r.duration("GATEWAY_MAX_WAIT", 60*time.Second),
		// 10,000 held waits took the gateway to about 200 MB (docs/benchmarks.md); one caller
		// gets a hundredth of that, many browser tabs' worth of streams.
		ConcurrentWaitsPerCaller: r.count("GATEWAY_CONCURRENT_WAITS_PER_CALLER", 100),
		ConcurrentWaits:          r.count("GATEWAY_CONCURRENT_WAITS", 10_000),
		ClosedCacheSize:          r.integer("GATEWAY_CLOSED_CACHE_SIZE", 10_000),
		Guard:                    r.guard(),
		Telemetry:                r.gatewayTelemetry(),
	}
	cfg.Auth = r.auth(cfg.HTTPAddr)
	if !cfg.Auth.Enabled() && slices.Contains(cfg.Guard.CORSAllowedOrigins, "*") {
		// Without credentials, a page of any site that may call the gateway could drive it: the
		// Content-Type rule only forces a preflight, and * would grant it.
		r.fail("GATEWAY_CORS_ALLOWED_ORIGINS", "may not be * while no credentials are configured: list the origins of your own pages")
	}
	cfg.TaskQueues, cfg.AnyTaskQueue = r.taskQueues("GATEWAY_TASK_QUEUES")
	r.positive("GATEWAY_MAX_WAIT", cfg.MaxWait)
	if cfg.ConcurrentWaitsPerCaller > cfg.ConcurrentWaits {
		r.fail("GATEWAY_CONCURRENT_WAITS_PER_CALLER", "must not be above GATEWAY_CONCURRENT_WAITS")
	}
	if cfg.ClosedCacheSize < 1 {
		r.fail("GATEWAY_CLOSED_CACHE_SIZE", "must be at least 1")
	}
	if cfg.MaxBodyBytes < 1024 {
		r.fail("GATEWAY_MAX_BODY_BYTES", "must be at least 1024")
	}
	r.positive("GATEWAY_TEMPORAL_TIMEOUT", cfg.TemporalTimeout)
	r.positive("GATEWAY_SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout)
	return cfg
}

// LoadWorker reads the worker's configuration.
func LoadWorker(getenv func(string) string) (Worker, error) {
	r := reader{getenv: getenv}
	cfg := r.worker()
	return cfg, r.err()
}

func (r *reader) worker() Worker {
	cfg := Worker{
		Temporal:        r.temporal(WorkerGRPCCompression),
		Log:             r.log(),
		ShutdownTimeout: r.duration("WORKER_SHUTDOWN_TIMEOUT", 10*time.Second),
		Telemetry:       r.workerTelemetry(),
		BankFile:        r.str("WORKER_BANK_FILE", ""),
	}
	r.positive("WORKER_SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout)
	return cfg
}

// NewLogger returns the process's logger.
func NewLogger(w io.Writer, cfg Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// reader collects every invalid setting, so one start reports them all.
type reader struct {
	getenv func(string) string
	errs   []error
}

// fail records an invalid setting once, though a command that reads the settings of two
// processes (the launcher) reads the shared ones twice.
func (r *reader) fail(name, msg string) {
	err := fmt.Errorf("%s %s", name, msg)
	for _, e := range r.errs {
		if e.Error() == err.Error() {
			return
		}
	}
	r.errs = append(r.errs, err)
}

func (r *reader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration: %w", errors.Join(r.errs...))
}

// httpAddr reads the gateway's listen address, which its health check probes too.
func (r *reader) httpAddr() string {
	addr := r.str("GATEWAY_HTTP_ADDR", DefaultHTTPAddr)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		r.fail("GATEWAY_HTTP_ADDR", "must be host:port, such as 127.0.0.1:8080 or :8080")
	}
	return addr
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "must be true or false")
	}
	return b
}

func (r *reader) integer(name string, def int64) int64 {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		r.fail(name, "must be a whole number")
	}
	return n
}

// count reads a number of things that must be at least 1 and fit an int on every platform.
func (r *reader) count(name string, def int) int {
	failed := len(r.errs)
	n := r.integer(name, int64(def))
	if len(r.errs) > failed {
		return def // not a number: said once
	}
	if n < 1 || n > 1<<31-1 {
		r.fail(name, "must be a whole number from 1 to 2147483647")
		return def
	}
	return int(n)
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, "must be a duration such as 10s or 1m")
	}
	return d
}

// taskQueues reads a comma-separated list of task queue names, or * alone for any queue.
func (r *reader) taskQueues(name string) ([]string, bool) {
	list := commaSeparated(r.getenv(name))
	if slices.Contains(list, "*") {
		if len(list) > 1 {
			r.fail(name, "may be * (any task queue) only on its own")
		}
		return nil, true
	}
	return list, false
}

func (r *reader) positive(name string, d time.Duration) {
	if d <= 0 {
		r.fail(name, "must be positive")
	}
}

func (r *reader) log() Log {
	l := Log{Format: r.str("LOG_FORMAT", "json")}
	if err := l.Level.UnmarshalText([]byte(r.str("LOG_LEVEL", "info"))); err != nil {
		r.fail("LOG_LEVEL", "must be debug, info, warn or error")
	}
	if l.Format != "json" && l.Format != "text" {
		r.fail("LOG_FORMAT", "must be json or text")
	}
	return l
}

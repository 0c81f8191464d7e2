// Package telemetry is what a process tells its operators besides its answers: Prometheus metrics
// (HTTP requests by route and the Temporal SDK's own), OpenTelemetry traces that follow a request
// from the gateway into the workflow and its activities, and the ids that tie log lines to both.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/temporalhttp/gateway/internal/config"
)

// latencyBuckets (seconds) span a validation error to the longest wait a request may hold and
// the SDK's long polls; the OpenTelemetry default buckets are meant for milliseconds.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// Telemetry is a process's metrics and tracing. Build it once in run, hand its parts to the
// Temporal client and the HTTP router, and Shutdown it last.
type Telemetry struct {
	// Registry holds every metric of the process: Go runtime and process collectors, the HTTP
	// metrics of Middleware and the Temporal SDK's metrics of MetricsHandler. /metrics serves it.
	Registry *prometheus.Registry

	logger         *slog.Logger
	http           *httpMetrics
	meterProvider  *sdkmetric.MeterProvider
	sdkMetrics     client.MetricsHandler
	tracerProvider trace.TracerProvider
	// sdkTracer is the SDK provider when tracing is on, nil when off.
	sdkTracer   *sdktrace.TracerProvider
	propagator  propagation.TextMapPropagator
	interceptor interceptor.Interceptor
}

// Option adjusts New.
type Option func(*settings)

type settings struct {
	spanExporter sdktrace.SpanExporter
}

// WithSpanExporter turns tracing on with exp instead of the configured OTLP exporter, exporting
// each span as it ends. Tests use it with an in-memory exporter.
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return func(s *settings) { s.spanExporter = exp }
}

// New builds the process's telemetry from cfg. Tracing is on only when cfg names an OTLP
// endpoint (or an Option supplies an exporter); otherwise no exporter exists, nothing runs in
// the background and nothing goes over the network. Creating the exporter does not connect.
func New(ctx context.Context, cfg config.Telemetry, logger *slog.Logger, opts ...Option) (*Telemetry, error) {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	t := &Telemetry{
		Registry: prometheus.NewRegistry(),
		logger:   logger,
		// W3C trace context and baggage: what every OpenTelemetry SDK and collector speaks, and
		// what the Temporal SDKs put in workflow headers.
		propagator:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		tracerProvider: noop.NewTracerProvider(),
	}
	if err := t.Registry.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("register go collector: %w", err)
	}
	if err := t.Registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("register process collector: %w", err)
	}
	var err error
	if t.http, err = newHTTPMetrics(t.Registry); err != nil {
		return nil, err
	}
	if err := t.newSDKMetrics(); err != nil {
		return nil, err
	}

	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName)))
	if err != nil {
		return nil, fmt.Errorf("describe telemetry resource: %w", err)
	}
	var processor sdktrace.SpanProcessor
	switch {
	case s.spanExporter != nil:
		processor = sdktrace.NewSimpleSpanProcessor(s.spanExporter)
	case cfg.TracesEndpoint != "":
		exp, err := newOTLPExporter(ctx, cfg)
		if err != nil {
			return nil, err
		}
		processor = sdktrace.NewBatchSpanProcessor(exp)
	default:
		return t, nil
	}
	t.sdkTracer = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(processor))
	t.tracerProvider = t.sdkTracer
	// Failed exports reach OpenTelemetry's global error handler, which otherwise prints plain text
	// to stderr; route them into the process's JSON log.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("telemetry export failed", "error", err)
	}))
	t.interceptor, err = temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.sdkTracer.Tracer("go.temporal.io/sdk/contrib/opentelemetry"),
		TextMapPropagator: t.propagator,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create temporal tracing interceptor: %w", err), t.sdkTracer.Shutdown(ctx))
	}
	return t, nil
}

// newSDKMetrics puts the Temporal SDK's metrics into the registry: the SDK reports through an
// OpenTelemetry meter, and the OpenTelemetry Prometheus exporter is a reader that collects on
// each scrape, so nothing runs between scrapes.
func (t *Telemetry) newSDKMetrics() error {
	exp, err := otelprom.New(otelprom.WithRegisterer(t.Registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return fmt.Errorf("create prometheus exporter for sdk metrics: %w", err)
	}
	t.meterProvider = sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exp),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: latencyBuckets}},
		)),
	)
	t.sdkMetrics = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: t.meterProvider.Meter("go.temporal.io/sdk"),
		// The SDK's counters only grow: export them as Prometheus counters (_total), not gauges.
		UseMonotonicCounters: true,
		// The default panics; a metric that cannot be created is no reason to stop serving.
		OnError: func(err error) { t.logger.Warn("temporal sdk metric unavailable", "error", err) },
	})
	return nil
}

func newOTLPExporter(ctx context.Context, cfg config.Telemetry) (sdktrace.SpanExporter, error) {
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if cfg.TracesProtocol == config.ProtocolGRPC {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(cfg.TracesEndpoint), otlptracegrpc.WithHeaders(cfg.TracesHeaders))
	} else {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.TracesEndpoint), otlptracehttp.WithHeaders(cfg.TracesHeaders))
	}
	if err != nil {
		return nil, fmt.Errorf("create OTLP %s trace exporter: %w", cfg.TracesProtocol, err)
	}
	return exp, nil
}

// TracingEnabled says whether spans are recorded and exported.
func (t *Telemetry) TracingEnabled() bool { return t.sdkTracer != nil }

// TracerProvider is the process's tracer provider: a no-op one when tracing is off.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tracerProvider }

// MetricsHandler is what the Temporal client reports its metrics to (client.Options.MetricsHandler).
func (t *Telemetry) MetricsHandler() client.MetricsHandler { return t.sdkMetrics }

// Interceptors are the Temporal client interceptors telemetry needs: the SDK's tracing
// interceptor when tracing is on, none when off. The interceptor is also a worker interceptor,
// so a worker built on the client traces workflows and activities too.
func (t *Telemetry) Interceptors() []interceptor.ClientInterceptor {
	if t.interceptor == nil {
		return nil
	}
	return []interceptor.ClientInterceptor{t.interceptor}
}

// ClientOptions returns opts reporting metrics to MetricsHandler and, when tracing is on,
// traced by the SDK's tracing interceptor (after any interceptors opts already has).
func (t *Telemetry) ClientOptions(opts client.Options) client.Options {
	opts.MetricsHandler = t.sdkMetrics
	opts.Interceptors = append(append([]interceptor.ClientInterceptor(nil), opts.Interceptors...), t.Interceptors()...)
	return opts
}

// Shutdown exports the spans still buffered and stops the providers. Call it after the Temporal
// client and the HTTP server are done, with a deadline.
// Close is Shutdown for a process that is stopping: it gives the exporters timeout to flush even
// when ctx has already ended (it usually has: the process stops because ctx ended), and logs a
// failure rather than returning it, since the process is exiting anyway.
func (t *Telemetry) Close(ctx context.Context, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		t.logger.Warn("telemetry shutdown", "error", err)
	}
}

func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.sdkTracer != nil {
		if err := t.sdkTracer.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down tracer provider: %w", err))
		}
	}
	if err := t.meterProvider.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shut down meter provider: %w", err))
	}
	return errors.Join(errs...)
}

package otelrpc

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"polyconnect.dev/protocol/rpc"
)

// ScopeName is the instrumentation scope of the spans and metrics, the
// module path.
const ScopeName = "polyconnect.dev/otel"

// Version is the version of this module, recorded as the instrumentation
// scope's version. All product modules share one version, so it is
// rpc.Version and cannot go stale at a release.
const Version = rpc.Version

// Interceptor traces and measures calls on clients and handlers, following
// the OpenTelemetry semantic conventions for RPC, v1.43.0. It is an
// rpc.ClientInterceptor and an rpc.HandlerInterceptor; one value serves any
// number of clients and handlers, concurrently.
//
// On a client it starts a span of kind CLIENT for the call, writes the
// trace context and baggage into the request headers through the
// propagator, ends the span when the call ends (unary: when it returns;
// streams: when Receive returns io.EOF or an error, when CloseResponse is
// called, or when the call's context is done) and records
// rpc.client.call.duration. On a handler it reads the trace context from
// the request headers, starts a span of kind SERVER, ends it when the
// handler returns and records rpc.server.call.duration.
//
// Place it first among a client's interceptors so that its span covers the
// whole call, retries included; see Attempts for a span per attempt.
type Interceptor struct {
	cfg        config
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	// tracingOff: the tracer provider is a no-op, so no span is started.
	tracingOff bool
	// unsetGlobal is the global tracer provider that NewInterceptor found
	// when none had been set yet: spans are started only once another
	// provider has replaced it.
	unsetGlobal trace.TracerProvider
	client      instruments
	server      instruments
	// attempts is set once Attempts was called: client calls then carry
	// their state in the context for the attempt interceptor.
	attempts atomic.Bool
}

var (
	_ rpc.ClientInterceptor  = (*Interceptor)(nil)
	_ rpc.HandlerInterceptor = (*Interceptor)(nil)
)

// NewInterceptor returns an interceptor configured by opts.
func NewInterceptor(opts ...Option) *Interceptor {
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	cfg.applyWithout()
	i := &Interceptor{cfg: cfg}
	tp := cfg.tracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
		if isUnsetGlobal(tp) {
			i.unsetGlobal = tp
		}
	}
	_, i.tracingOff = tp.(tracenoop.TracerProvider)
	i.tracer = tp.Tracer(ScopeName,
		trace.WithInstrumentationVersion(Version),
		trace.WithSchemaURL(semconv.SchemaURL))
	mp := cfg.meterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName,
		metric.WithInstrumentationVersion(Version),
		metric.WithSchemaURL(semconv.SchemaURL))
	i.client = newInstruments(meter, true, cfg.messageMetrics)
	i.server = newInstruments(meter, false, cfg.messageMetrics)
	i.propagator = cfg.propagator
	if i.propagator == nil {
		i.propagator = otel.GetTextMapPropagator()
	}
	return i
}

// Telemetry returns an option that adds NewInterceptor(opts...) to a client
// or a handler: tracing and metrics in one option. Among other
// interceptors, it takes the place where the option stands.
func Telemetry(opts ...Option) rpc.Option {
	i := NewInterceptor(opts...)
	return telemetryOption{rpc.WithClientInterceptors(i), rpc.WithHandlerInterceptors(i)}
}

// telemetryOption is an rpc.Option made of rpc's own client and handler
// options.
type telemetryOption struct {
	rpc.ClientOption
	rpc.HandlerOption
}

// isUnsetGlobal reports whether tp is OpenTelemetry's global provider as it
// is before any program sets one: a delegate that starts non-recording spans
// until a real provider arrives. Starting those costs an allocation per call
// for nothing, so the interceptor skips them while the global stays unset.
func isUnsetGlobal(tp trace.TracerProvider) bool {
	return reflect.TypeOf(tp).String() == "*global.tracerProvider"
}

// tracing reports whether calls get spans now.
func (i *Interceptor) tracing() bool {
	if i.tracingOff {
		return false
	}
	return i.unsetGlobal == nil || otel.GetTracerProvider() != i.unsetGlobal
}

// skipped reports whether WithoutProcedures leaves the procedure alone; it
// is decided once per client or handler, when it builds its chains.
func (i *Interceptor) skipped(spec rpc.Spec) bool {
	_, skip := i.cfg.skip[spec.Procedure]
	return skip
}

// instrument reports whether the filters let the call through.
func (i *Interceptor) instrument(ctx context.Context, spec rpc.Spec) bool {
	for _, f := range i.cfg.filters {
		if !f(ctx, spec) {
			return false
		}
	}
	return true
}

// WrapClientUnary implements rpc.ClientInterceptor.
func (i *Interceptor) WrapClientUnary(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	if i.skipped(spec) {
		return next
	}
	return func(ctx context.Context, req any) (any, error) {
		info, ok := rpc.ClientCallInfo(ctx)
		if !ok || info.Procedure() == "" || !i.instrument(ctx, spec) {
			// Without a procedure (a CallInfo that an interceptor before
			// this one made, which the call fills in later), the span
			// would have no attributes to carry.
			return next(ctx, req)
		}
		return i.unaryClient(ctx, info, req, next)
	}
}

// WrapClientStream implements rpc.ClientInterceptor.
func (i *Interceptor) WrapClientStream(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	if i.skipped(spec) {
		return next
	}
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		info, ok := rpc.ClientCallInfo(ctx)
		if !ok || info.Procedure() == "" || !i.instrument(ctx, spec) {
			return next(ctx)
		}
		return i.streamClient(ctx, info, next)
	}
}

// WrapHandlerCall implements rpc.HandlerInterceptor: every call, of every
// kind, from before its request is read.
func (i *Interceptor) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	if i.skipped(spec) {
		return next
	}
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		info, ok := rpc.HandlerCallInfo(ctx)
		if !ok || !i.instrument(ctx, spec) {
			return next(ctx, conn)
		}
		ctx, link := i.extract(ctx, info)
		c := i.newCall(ctx, info, kindServer)
		if c == nil {
			return next(ctx, conn)
		}
		ctx = c.startServer(ctx, link)
		if i.cfg.responsePropagation {
			i.injectResponse(ctx, info)
		}
		if c.countMessages() {
			conn = &handlerConn{StreamingHandlerConn: conn, call: c}
		}
		err := next(ctx, conn)
		c.finish(handlerResult(ctx, err))
		return err
	}
}

// WrapHandlerUnary implements rpc.HandlerInterceptor: the call chain sees
// everything, so the unary chain is left alone.
func (i *Interceptor) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return next
}

func (i *Interceptor) unaryClient(ctx context.Context, info *rpc.CallInfo, req any, next rpc.ClientUnaryFunc) (any, error) {
	c := i.newCall(ctx, info, kindClient)
	if c == nil {
		if !hasPropagation(ctx) {
			return next(ctx, req)
		}
		carrier := &injectCarrier{h: info.RequestHeader()}
		i.propagator.Inject(ctx, carrier)
		defer carrier.restore()
		return next(ctx, req)
	}
	ctx = c.startClient(ctx)
	res, err := next(ctx, req)
	c.carrier.restore()
	// After the call, when the CallInfo has the request's wire size.
	c.message(sent, req)
	if err == nil {
		c.message(received, res)
	}
	c.finish(err)
	return res, err
}

func (i *Interceptor) streamClient(ctx context.Context, info *rpc.CallInfo, next rpc.ClientStreamFunc) (rpc.StreamingClientConn, error) {
	c := i.newCall(ctx, info, kindClient)
	if c == nil {
		if !hasPropagation(ctx) {
			return next(ctx)
		}
		// Nothing to record, but the caller's trace context travels on.
		carrier := &injectCarrier{h: info.RequestHeader()}
		i.propagator.Inject(ctx, carrier)
		inner, err := next(ctx)
		if err != nil {
			carrier.restore()
			return nil, err
		}
		return &clientConn{StreamingClientConn: inner, carrier: carrier}, nil
	}
	ctx = c.startClient(ctx)
	inner, err := next(ctx)
	if err != nil {
		// Refused as it opened: the call ends here.
		c.carrier.restore()
		c.finish(err)
		return nil, err
	}
	conn := &clientConn{StreamingClientConn: inner, call: c, carrier: &c.carrier}
	if ctx.Done() != nil {
		conn.stop = context.AfterFunc(ctx, conn.abandon)
	}
	return conn, nil
}

// extract returns the context the handler span starts from. Unless a span
// is already on the context (an HTTP middleware's, say), it reads the trace
// context and baggage from the request headers. For a public endpoint the
// caller's span context is returned as the link to add instead.
func (i *Interceptor) extract(ctx context.Context, info *rpc.CallInfo) (context.Context, trace.SpanContext) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanContext{}
	}
	extracted := i.propagator.Extract(ctx, headerCarrier(info.RequestHeader()))
	if !i.cfg.public(ctx, info) {
		return extracted, trace.SpanContext{}
	}
	return ctx, trace.SpanContextFromContext(extracted)
}

// hasPropagation reports whether ctx has anything for a propagator to
// write: a span context or baggage.
func hasPropagation(ctx context.Context) bool {
	return trace.SpanContextFromContext(ctx).IsValid() || baggage.FromContext(ctx).Len() > 0
}

// handlerResult is the error a handler's call ends with, as the handler
// reports it after the interceptors: an unknown error on a context that is
// done becomes the context's code, and a success after the deadline becomes
// DEADLINE_EXCEEDED.
func handlerResult(ctx context.Context, err error) error {
	switch {
	case err != nil && ctx.Err() != nil && rpc.CodeOf(err) == rpc.CodeUnknown:
		return ctx.Err()
	case err == nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errLateSuccess
	}
	return err
}

var errLateSuccess = rpc.NewError(rpc.CodeDeadlineExceeded, "the handler finished after the call's deadline")

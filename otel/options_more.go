package otelrpc

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"polyconnect.dev/protocol/rpc"
)

// AttributeFilter decides whether an attribute is recorded: it returns
// false for attributes to leave out. It must be safe for concurrent use.
type AttributeFilter func(attribute.KeyValue) bool

// WithAttributeFilter records only the attributes for which f returns
// true, on spans (at start and at end) and on metrics. Metric attribute
// sets are filtered once, when a combination is first seen, so the filter
// costs nothing per call there; spans pay for one call of f per attribute.
// Leaving out an attribute that the conventions require (rpc.method,
// rpc.system.name) makes the data harder to use with standard dashboards.
func WithAttributeFilter(f AttributeFilter) Option {
	return optionFunc(func(c *config) { c.attrFilter = f })
}

// WithoutTracing records no spans: metrics only. The trace context still
// travels (clients write the caller's, handlers read it into the context),
// so traces recorded by other services stay connected.
// It wins over WithTracerProvider, in whichever order they come.
func WithoutTracing() Option {
	return optionFunc(func(c *config) { c.noTracing = true })
}

// WithoutMetrics records no metrics: tracing only. It wins over
// WithMeterProvider, in whichever order they come.
func WithoutMetrics() Option {
	return optionFunc(func(c *config) { c.noMetrics = true })
}

// applyWithout replaces the providers that WithoutTracing and
// WithoutMetrics turn off with no-op ones.
func (c *config) applyWithout() {
	if c.noTracing {
		c.tracerProvider = tracenoop.NewTracerProvider()
	}
	if c.noMetrics {
		c.meterProvider = metricnoop.NewMeterProvider()
	}
}

// PublicEndpointFunc reports whether a handler's call comes from a caller
// whose trace context is not to be trusted. It runs once per call, before
// the request is read: ctx has the call's CallInfo (rpc.HandlerCallInfo:
// headers, peer, TLS state) and spec is the handler's.
type PublicEndpointFunc func(ctx context.Context, spec rpc.Spec) bool

// WithPublicEndpointFunc decides per call what WithPublicEndpoint decides
// for all: for a call for which fn returns true, the handler span starts a
// new trace linked to the caller's span instead of becoming its child, and
// the caller's baggage is left out. Use it to trust callers on an internal
// network or with a client certificate, and distrust the rest. With
// WithPublicEndpoint as well, every call is public. Clients ignore it.
func WithPublicEndpointFunc(fn PublicEndpointFunc) Option {
	return optionFunc(func(c *config) { c.publicEndpointFn = fn })
}

// WithResponsePropagation makes handlers write the trace context of their
// span into the response headers, through the propagator (traceparent and
// tracestate for W3C), so that a caller that records no spans of its own, a
// browser or curl say, learns the trace to look for. Only the span context
// is written, never baggage. Clients ignore it. The headers go out with
// the response headers: for streams, before the first message.
func WithResponsePropagation() Option {
	return optionFunc(func(c *config) { c.responsePropagation = true })
}

// filterAttributes returns attrs without those c's filter refuses,
// reusing attrs' array.
func (c *config) filterAttributes(attrs []attribute.KeyValue) []attribute.KeyValue {
	return filterWith(c.attrFilter, attrs)
}

// filterWith returns attrs without those f refuses (all of them if f is
// nil), reusing attrs' array.
func filterWith(f AttributeFilter, attrs []attribute.KeyValue) []attribute.KeyValue {
	if f == nil {
		return attrs
	}
	kept := attrs[:0]
	for _, kv := range attrs {
		if f(kv) {
			kept = append(kept, kv)
		}
	}
	return kept
}

// public reports whether a handler's call is on a public endpoint.
func (c *config) public(ctx context.Context, info *rpc.CallInfo) bool {
	return c.publicEndpoint || (c.publicEndpointFn != nil && c.publicEndpointFn(ctx, info.Spec()))
}

// injectResponse writes the trace context of the handler span on ctx into
// the response headers (WithResponsePropagation): the span context alone,
// on a context of its own, so that no baggage goes back to the caller.
func (i *Interceptor) injectResponse(ctx context.Context, info *rpc.CallInfo) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	i.propagator.Inject(trace.ContextWithSpanContext(context.Background(), sc), headerCarrier(info.ResponseHeader()))
}

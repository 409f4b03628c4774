package otelrpc

import (
	"context"
	"net/textproto"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"polyconnect.dev/protocol/rpc"
)

// config is what the options set. It is read-only once NewInterceptor has
// returned.
type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator
	filters        []Filter
	skip           map[string]struct{}
	publicEndpoint bool
	requestKeys    []metadataKey
	responseKeys   []metadataKey
	messageEvents  bool
	messageMetrics bool
	// serverAddressMetrics: server.address and server.port on the server's
	// metrics (WithServerAddressMetrics).
	serverAddressMetrics bool
	attrFilter           AttributeFilter
	publicEndpointFn     PublicEndpointFunc
	responsePropagation  bool
	noTracing, noMetrics bool
}

// metadataKey is a header to record: its canonical name (to look it up) and
// the attribute key it is recorded under.
type metadataKey struct {
	header string
	attr   attribute.Key
}

// Option configures an Interceptor.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Filter decides whether a call is instrumented: it returns false for calls
// to leave alone (no span, no metrics, no propagation). It runs once per
// call, on the goroutine making it, and must be safe for concurrent use.
type Filter func(ctx context.Context, spec rpc.Spec) bool

// WithTracerProvider sets the provider of the tracer that records spans. The
// default is the global provider (otel.GetTracerProvider) at the time
// NewInterceptor runs; a global provider set later is used too, since the
// global delegates. A nil provider keeps the default.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tracerProvider = tp
		}
	})
}

// WithMeterProvider sets the provider of the meter that records metrics. The
// default is the global provider (otel.GetMeterProvider). A nil provider keeps
// the default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	})
}

// WithPropagators sets the propagator that writes the trace context and
// baggage into client requests and reads them from handler requests. The
// default is the global propagator (otel.GetTextMapPropagator), which does
// nothing until one is set: most programs set
// propagation.NewCompositeTextMapPropagator(propagation.TraceContext{},
// propagation.Baggage{}) globally or pass it here. A nil propagator keeps the
// default.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.propagator = p
		}
	})
}

// WithFilter adds a filter. A call is instrumented only if every filter
// returns true for it.
func WithFilter(f Filter) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.filters = append(c.filters, f)
		}
	})
}

// WithoutProcedures leaves calls to the named procedures
// ("/package.Service/Method") alone, health checks for instance.
func WithoutProcedures(procedures ...string) Option {
	return optionFunc(func(c *config) {
		if c.skip == nil {
			c.skip = make(map[string]struct{}, len(procedures))
		}
		for _, p := range procedures {
			c.skip[p] = struct{}{}
		}
	})
}

// WithPublicEndpoint makes handlers distrust the trace context that callers
// send: each handler span starts a new trace and links to the caller's span
// instead of becoming its child, and the caller's baggage is not put on the
// context. Use it on servers that face the internet. Clients ignore it.
func WithPublicEndpoint() Option {
	return optionFunc(func(c *config) { c.publicEndpoint = true })
}

// WithRequestMetadata records the named request headers on spans, as the
// opt-in attributes rpc.request.metadata.<key> (key in lower case, the
// values as a string slice). Only the named headers are recorded: headers
// often carry credentials.
func WithRequestMetadata(headers ...string) Option {
	return optionFunc(func(c *config) {
		c.requestKeys = appendMetadataKeys(c.requestKeys, "rpc.request.metadata.", headers)
	})
}

// WithResponseMetadata records the named response headers and trailers on
// spans, as the opt-in attributes rpc.response.metadata.<key>. A key found
// in both the headers and the trailers gets the values of both, headers
// first.
func WithResponseMetadata(headers ...string) Option {
	return optionFunc(func(c *config) {
		c.responseKeys = appendMetadataKeys(c.responseKeys, "rpc.response.metadata.", headers)
	})
}

func appendMetadataKeys(keys []metadataKey, prefix string, headers []string) []metadataKey {
	for _, h := range headers {
		if h == "" {
			continue
		}
		keys = append(keys, metadataKey{
			header: textproto.CanonicalMIMEHeaderKey(h),
			attr:   attribute.Key(prefix + strings.ToLower(h)),
		})
	}
	return keys
}

// WithMessageEvents adds a span event named rpc.message for every message
// sent or received, with the attributes rpc.message.type (SENT or
// RECEIVED), rpc.message.id (counting from 1 in each direction),
// rpc.message.uncompressed_size (the message's encoded size with the call's
// codec) and rpc.message.compressed_size (its size on the wire after
// compression), both from the CallInfo (rpc.CallInfo.LastSentSize). Where
// the CallInfo has none (a client whose attempts have CallInfos of their
// own, under a retry interceptor placed after this one), a protobuf
// message gets its uncompressed size alone (proto.Size). These names come from
// earlier releases of the semantic conventions (v1.39.0 and before); v1.43.0
// defines no message events. Off by default: a long stream makes a large
// span.
func WithMessageEvents() Option {
	return optionFunc(func(c *config) { c.messageEvents = true })
}

// WithMessageMetrics records message sizes and counts: the histograms
// rpc.client.request.size, rpc.client.response.size, rpc.server.request.size
// and rpc.server.response.size (bytes, one measurement per message: its
// encoded size, uncompressed, as the CallInfo records it; see
// WithMessageEvents) and rpc.client.requests_per_rpc,
// rpc.client.responses_per_rpc, rpc.server.requests_per_rpc and
// rpc.server.responses_per_rpc (messages, one measurement per call). These
// names come from earlier releases of the semantic conventions (v1.37.0 and
// before); v1.43.0 defines only the call durations. Off by default.
func WithMessageMetrics() Option {
	return optionFunc(func(c *config) { c.messageMetrics = true })
}

// WithServerAddressMetrics records server.address and server.port on the
// handler's metrics (rpc.server.call.duration and, with
// WithMessageMetrics, the message metrics). The conventions (v1.43.0) make
// them opt-in there, and they are off by default: a handler takes them from
// the authority each request was addressed to (its Host header), which the
// caller chooses, so they would let callers add series at will. Turn them
// on only behind a proxy that fixes the Host header, or where every name
// the server answers to is known. Handler spans carry them either way.
func WithServerAddressMetrics() Option {
	return optionFunc(func(c *config) { c.serverAddressMetrics = true })
}

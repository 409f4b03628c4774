package otelrpc

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc"
)

type callKind uint8

const (
	kindClient  callKind = iota // a client call: CLIENT span, client metrics
	kindServer                  // a handler call: SERVER span, server metrics
	kindAttempt                 // one attempt of a client call: INTERNAL span, no metrics
)

// attemptKey is the attribute that numbers attempt spans, from 1.
const attemptKey = attribute.Key("polyconnect.rpc.attempt")

// Span start options shared by every call.
var (
	clientKind   = trace.WithSpanKind(trace.SpanKindClient)
	serverKind   = trace.WithSpanKind(trace.SpanKindServer)
	internalKind = trace.WithSpanKind(trace.SpanKindInternal)
	newRoot      = trace.WithNewRoot()
)

// call is the state of one instrumented call (or attempt). Its fields are
// set before the call starts; afterwards only the atomic counters and
// finish, which runs once, touch it.
type call struct {
	i         *Interceptor
	ins       *instruments
	kind      callKind
	info      *rpc.CallInfo
	protocol  rpc.Protocol
	procedure string
	// addr is server.address and server.port (client) or
	// network.peer.address and network.peer.port (handler); nAddr of them
	// are set.
	addr  [2]attribute.KeyValue
	nAddr int
	// host is server.address and server.port of a handler: the authority
	// the call was addressed to; nHost of them are set.
	host     [2]attribute.KeyValue
	nHost    int
	ctx      context.Context // the span's context, for recording
	span     trace.Span      // nil when not tracing
	tracing  bool
	metrics  bool
	msgSet   attribute.Set // the message metrics' attributes
	start    time.Time
	attempt  int64        // kindAttempt: its number
	attempts atomic.Int64 // kindClient: attempts started so far
	sent     atomic.Int64
	received atomic.Int64
	carrier  injectCarrier
	// Scratch space, so that a call allocates it once: attributes, span
	// start options, a metric record option.
	attrs     [10]attribute.KeyValue
	startOpts [4]trace.SpanStartOption
	recordOpt [1]metric.RecordOption
}

// newCall returns the state of a call that has something to record, or nil
// if neither spans nor metrics are on.
func (i *Interceptor) newCall(ctx context.Context, info *rpc.CallInfo, kind callKind) *call {
	ins := &i.client
	if kind == kindServer {
		ins = &i.server
	}
	tracing := i.tracing()
	metrics := kind != kindAttempt && ins.duration.Enabled(ctx)
	if !tracing && !metrics {
		return nil
	}
	c := &call{
		i:         i,
		ins:       ins,
		kind:      kind,
		info:      info,
		protocol:  info.Protocol(),
		procedure: info.Procedure(),
		tracing:   tracing,
		metrics:   metrics,
		start:     time.Now(),
	}
	switch kind {
	case kindClient:
		c.addr, c.nAddr = addressAttributes(info.Peer().Addr, semconv.ServerAddressKey, semconv.ServerPortKey)
	case kindServer:
		c.addr, c.nAddr = addressAttributes(info.Peer().Addr, semconv.NetworkPeerAddressKey, semconv.NetworkPeerPortKey)
		c.host, c.nHost = addressAttributes(info.Host(), semconv.ServerAddressKey, semconv.ServerPortKey)
	}
	if metrics && i.cfg.messageMetrics {
		c.msgSet = attribute.NewSet(i.cfg.filterAttributes(c.baseAttributes(c.attrs[:0], true))...)
	}
	return c
}

// baseAttributes appends the attributes known when the call starts, for
// its span or, if metric, for its metrics: a handler's server.address and
// server.port go on metrics only with WithServerAddressMetrics.
func (c *call) baseAttributes(attrs []attribute.KeyValue, forMetrics bool) []attribute.KeyValue {
	attrs = append(attrs, systemName(c.protocol), semconv.RPCMethodKey.String(methodName(c.procedure)))
	switch c.kind {
	case kindClient:
		attrs = append(attrs, c.addr[:c.nAddr]...)
	case kindServer:
		if !forMetrics || c.i.cfg.serverAddressMetrics {
			attrs = append(attrs, c.host[:c.nHost]...)
		}
	}
	return attrs
}

// startClient starts the call's span (if tracing), writes the propagated
// headers into the request and returns the call's context.
func (c *call) startClient(ctx context.Context) context.Context {
	if c.tracing {
		attrs := c.baseAttributes(c.attrs[:0], false)
		attrs = appendMetadata(attrs, c.i.cfg.requestKeys, c.info.RequestHeader())
		attrs = c.i.cfg.filterAttributes(attrs)
		opts := append(c.startOpts[:0], clientKind, trace.WithAttributes(attrs...))
		ctx, c.span = c.i.tracer.Start(ctx, methodName(c.procedure), opts...)
	}
	if c.i.attempts.Load() {
		ctx = context.WithValue(ctx, callKey{}, c)
	}
	c.ctx = ctx
	if hasPropagation(ctx) {
		c.carrier.h = c.info.RequestHeader()
		c.i.propagator.Inject(ctx, &c.carrier)
	}
	return ctx
}

// startServer starts the handler's span (if tracing) and returns the
// handler's context. A valid link makes the span a new root linked to it.
func (c *call) startServer(ctx context.Context, link trace.SpanContext) context.Context {
	if c.tracing {
		attrs := c.baseAttributes(c.attrs[:0], false)
		attrs = append(attrs, c.addr[:c.nAddr]...)
		attrs = appendMetadata(attrs, c.i.cfg.requestKeys, c.info.RequestHeader())
		attrs = c.i.cfg.filterAttributes(attrs)
		o := append(c.startOpts[:0], serverKind, trace.WithAttributes(attrs...))
		if link.IsValid() {
			o = append(o, newRoot, trace.WithLinks(trace.Link{SpanContext: link}))
		}
		ctx, c.span = c.i.tracer.Start(ctx, methodName(c.procedure), o...)
	}
	c.ctx = ctx
	return ctx
}

// countMessages reports whether the call's messages need to be seen: for
// events or message metrics.
func (c *call) countMessages() bool {
	return (c.span != nil && c.i.cfg.messageEvents) || (c.metrics && c.i.cfg.messageMetrics)
}

type direction uint8

const (
	sent direction = iota
	received
)

var (
	messageTypeSent     = attribute.String("rpc.message.type", "SENT")
	messageTypeReceived = attribute.String("rpc.message.type", "RECEIVED")
)

const (
	messageIDKey             = attribute.Key("rpc.message.id")
	messageSizeKey           = attribute.Key("rpc.message.uncompressed_size")
	messageCompressedSizeKey = attribute.Key("rpc.message.compressed_size")
	messageEvent             = "rpc.message"
)

// messageSize returns the sizes of the message msg just sent or received
// (-1: unknown): the encoded and compressed sizes that the rpc package
// recorded on the call's CallInfo, as they went over the wire with the
// call's codec. Where it recorded none (a client call whose attempts ran
// with CallInfos of their own, under a retry interceptor placed after this
// one), the size of a protobuf message's binary encoding, uncompressed
// only.
func (c *call) messageSize(d direction, msg any) (uncompressed, compressed int) {
	s := c.info.LastReceivedSize()
	if d == sent {
		s = c.info.LastSentSize()
	}
	if s.Compressed > 0 {
		return s.Uncompressed, s.Compressed
	}
	if m, ok := msg.(proto.Message); ok {
		n := proto.Size(m)
		if n == 0 {
			return 0, 0
		}
		return n, -1
	}
	return -1, -1
}

// message notes a message sent or received: it counts it and, when asked
// for, adds an event and records its size. It may run concurrently for the
// two directions.
func (c *call) message(d direction, msg any) {
	if c.kind == kindAttempt {
		// The call's span and metrics see the messages.
		return
	}
	var n int64
	if d == sent {
		n = c.sent.Add(1)
	} else {
		n = c.received.Add(1)
	}
	if !c.countMessages() {
		return
	}
	size, compressed := c.messageSize(d, msg)
	if c.span != nil && c.i.cfg.messageEvents {
		typ := messageTypeSent
		if d == received {
			typ = messageTypeReceived
		}
		switch {
		case compressed >= 0:
			c.span.AddEvent(messageEvent, trace.WithAttributes(typ, messageIDKey.Int64(n), messageSizeKey.Int(size), messageCompressedSizeKey.Int(compressed)))
		case size >= 0:
			c.span.AddEvent(messageEvent, trace.WithAttributes(typ, messageIDKey.Int64(n), messageSizeKey.Int(size)))
		default:
			c.span.AddEvent(messageEvent, trace.WithAttributes(typ, messageIDKey.Int64(n)))
		}
	}
	if c.metrics && c.i.cfg.messageMetrics && size >= 0 {
		// A client sends requests and receives responses; a handler the
		// other way round.
		h := c.ins.requestSize
		if (d == received) == (c.kind == kindClient) {
			h = c.ins.responseSize
		}
		h.Record(c.ctx, int64(size), metric.WithAttributeSet(c.msgSet))
	}
}

// finish ends the call with err (nil: success): it records the status on
// the span and ends it, and records the metrics. It runs once per call.
// Response metadata is read only if readResponse: a call abandoned by its
// context may still be receiving.
func (c *call) finish(err error) { c.end(err, true) }

func (c *call) end(err error, readResponse bool) {
	o := outcomeOf(err)
	// The span has the base attributes already; these are the metrics'.
	attrs := c.baseAttributes(c.attrs[:0], true)
	base := len(attrs)
	attrs, status, description := appendStatus(attrs, o, c.protocol, c.kind == kindServer)
	if c.span != nil {
		if c.i.cfg.attrFilter == nil {
			c.span.SetAttributes(attrs[base:]...)
		} else {
			// A copy: attrs is still needed, whole, for the metrics.
			c.span.SetAttributes(c.i.cfg.filterAttributes(append([]attribute.KeyValue(nil), attrs[base:]...))...)
		}
		if readResponse && len(c.i.cfg.responseKeys) > 0 {
			c.span.SetAttributes(c.i.cfg.filterAttributes(appendMetadata(nil, c.i.cfg.responseKeys, c.info.ResponseHeader(), c.info.ResponseTrailer()))...)
		}
		if status == codes.Error {
			c.span.SetStatus(status, description)
		}
		c.span.End()
	}
	if !c.metrics {
		return
	}
	elapsed := time.Since(c.start).Seconds()
	key := recordKey{procedure: c.procedure, protocol: c.protocol, code: o.code}
	switch {
	case c.kind == kindClient:
		key.addr = c.info.Peer().Addr
	case c.i.cfg.serverAddressMetrics:
		// Each request names its own authority: the key must too.
		key.addr = c.info.Host()
	}
	c.recordOpt[0] = c.ins.sets.get(key, attrs, c.i.cfg.attrFilter)
	c.ins.duration.Record(c.ctx, elapsed, c.recordOpt[:]...)
	if c.i.cfg.messageMetrics {
		requests, responses := c.sent.Load(), c.received.Load()
		if c.kind == kindServer {
			requests, responses = responses, requests
		}
		c.ins.requestsPerRPC.Record(c.ctx, requests, c.recordOpt[:]...)
		c.ins.responsesPerRPC.Record(c.ctx, responses, c.recordOpt[:]...)
	}
}

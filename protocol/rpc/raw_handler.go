package rpc

import (
	"context"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// SpecOf returns the Spec of the protobuf method md: its procedure path
// ("/package.Service/Method"), its kind and its idempotency_level, with md
// as the Schema.
func SpecOf(md protoreflect.MethodDescriptor) Spec {
	spec := Spec{
		Procedure: "/" + string(md.Parent().FullName()) + "/" + string(md.Name()),
		Schema:    md,
	}
	if md.IsStreamingClient() {
		spec.StreamType |= StreamTypeClient
	}
	if md.IsStreamingServer() {
		spec.StreamType |= StreamTypeServer
	}
	if opts, ok := md.Options().(*descriptorpb.MethodOptions); ok && opts != nil {
		spec.IdempotencyLevel = IdempotencyLevel(opts.GetIdempotencyLevel())
	}
	return spec
}

// RawHandlerFunc serves one call of a raw handler, of any kind: it reads the
// requests with call.Receive and writes the responses with call.Send, into
// messages it chooses (their types come from the caller, not from rpc). A
// unary method receives one request and sends one response; it should run
// its method through call.Unary, so that the handler's unary interceptors
// see the request and the response.
type RawHandlerFunc func(ctx context.Context, call RawCall) error

// RawUnaryFunc is a unary method of a raw handler.
type RawUnaryFunc func(ctx context.Context, req proto.Message) (proto.Message, error)

// RawCall is the handler side of one call of a raw handler. It is a small
// value, valid until the RawHandlerFunc returns; its methods follow the
// concurrency rules of StreamingHandlerConn (one receiving and one sending
// goroutine).
type RawCall struct {
	conn  StreamingHandlerConn
	unary HandlerUnaryFunc // the unary interceptor chain; nil without one
}

// rawUnaryKey carries a call's RawUnaryFunc to the innermost step of a raw
// handler's unary chain, which is built once per handler.
type rawUnaryKey struct{}

// NewRawHandler returns a handler for the procedure spec (see SpecOf) whose
// messages are not Go types known to rpc: fn decodes requests into messages
// of its choice and sends responses of any proto.Message type. It answers
// every protocol, as the typed handlers do, including Connect GET for a
// unary spec with IdempotencyNoSideEffects. Adapters for other stacks'
// generated code build on it.
func NewRawHandler(spec Spec, fn RawHandlerFunc, opts ...HandlerOption) *Handler {
	h, interceptors := newHandler(spec, opts)
	var unary HandlerUnaryFunc
	if spec.StreamType == StreamTypeUnary && len(interceptors) > 0 {
		unary = chainHandlerUnary(spec, func(ctx context.Context, req any) (any, error) {
			method, ok := ctx.Value(rawUnaryKey{}).(RawUnaryFunc)
			if !ok {
				return nil, errorf(CodeInternal, "raw unary chain run without a method")
			}
			msg, ok := req.(proto.Message)
			if !ok {
				return nil, errorf(CodeInternal, "interceptor passed a request that is not a proto.Message")
			}
			res, err := method(ctx, msg)
			if err != nil {
				return nil, err
			}
			if res == nil {
				return nil, errNilResponse()
			}
			return res, nil
		}, interceptors)
	}
	h.call = chainHandlerCall(spec, func(ctx context.Context, conn StreamingHandlerConn) error {
		return fn(ctx, RawCall{conn: conn, unary: unary})
	}, interceptors)
	return h
}

// Receive reads the next request into msg. It returns io.EOF once the client
// has sent its last request.
func (c RawCall) Receive(msg proto.Message) error { return c.conn.Receive(msg) }

// Send writes a response. It marshals msg before it returns, so msg may be
// reused.
func (c RawCall) Send(msg proto.Message) error {
	if msg == nil || !msg.ProtoReflect().IsValid() {
		return errNilResponse()
	}
	return c.conn.Send(msg)
}

// Conn returns the untyped connection of the call, as interceptors see it.
func (c RawCall) Conn() StreamingHandlerConn { return c.conn }

// Unary runs method on req through the handler's unary interceptors (for a
// unary handler that has some) and returns its response, which the caller
// then sends. Without unary interceptors it calls method directly.
func (c RawCall) Unary(ctx context.Context, req proto.Message, method RawUnaryFunc) (proto.Message, error) {
	if c.unary == nil {
		return method(ctx, req)
	}
	res, err := c.unary(context.WithValue(ctx, rawUnaryKey{}, method), req)
	if err != nil {
		return nil, err
	}
	msg, ok := res.(proto.Message)
	if !ok {
		return nil, errorf(CodeInternal, "interceptor returned a response that is not a proto.Message")
	}
	return msg, nil
}

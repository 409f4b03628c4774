package raw

import (
	"context"

	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/internal/rawlink"
)

// HandlerFunc serves one call of a raw handler, of any kind: it reads the
// requests with call.Receive and writes the responses with call.Send, into
// messages it chooses. A unary method receives one request and sends one
// response; it should run its method through call.Unary, so that the
// handler's unary interceptors see the request and the response.
type HandlerFunc func(ctx context.Context, call Call) error

// UnaryFunc is a unary method of a raw handler.
type UnaryFunc func(ctx context.Context, req proto.Message) (proto.Message, error)

// Call is the handler side of one call of a raw handler. It is a small
// value, valid until the HandlerFunc returns; its methods follow the
// concurrency rules of rpc.StreamingHandlerConn (one receiving and one
// sending goroutine).
type Call struct {
	conn  rpc.StreamingHandlerConn
	unary rpc.HandlerUnaryFunc // the unary interceptor chain; nil without one
}

// unaryKey carries a call's UnaryFunc to the innermost step of a raw
// handler's unary chain, which is built once per handler.
type unaryKey struct{}

var newRawHandler = rawlink.NewHandler.(func(rpc.Spec, rpc.HandlerUnaryFunc,
	func(context.Context, rpc.StreamingHandlerConn, rpc.HandlerUnaryFunc) error, []rpc.HandlerOption) *rpc.Handler)

// NewHandler returns a handler for the procedure spec (see SpecOf) whose
// messages are not Go types known to rpc: fn decodes requests into messages
// of its choice and sends responses of any proto.Message type. It answers
// every protocol, as the typed handlers do, including Connect GET for a
// unary spec with rpc.IdempotencyNoSideEffects.
func NewHandler(spec rpc.Spec, fn HandlerFunc, opts ...rpc.HandlerOption) *rpc.Handler {
	return newRawHandler(spec, innerUnary, func(ctx context.Context, conn rpc.StreamingHandlerConn, unary rpc.HandlerUnaryFunc) error {
		return fn(ctx, Call{conn: conn, unary: unary})
	}, opts)
}

// innerUnary is the innermost step of a raw handler's unary chain: it runs
// the method that Call.Unary put in the context.
func innerUnary(ctx context.Context, req any) (any, error) {
	method, ok := ctx.Value(unaryKey{}).(UnaryFunc)
	if !ok {
		return nil, rpc.NewError(rpc.CodeInternal, "raw unary chain run without a method")
	}
	msg, ok := req.(proto.Message)
	if !ok {
		return nil, rpc.NewError(rpc.CodeInternal, "interceptor passed a request that is not a proto.Message")
	}
	res, err := method(ctx, msg)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errNilResponse()
	}
	return res, nil
}

func errNilResponse() error {
	return rpc.NewError(rpc.CodeInternal, "handler returned a nil response and a nil error")
}

// Receive reads the next request into msg. It returns io.EOF once the client
// has sent its last request.
func (c Call) Receive(msg proto.Message) error { return c.conn.Receive(msg) }

// Send writes a response. It marshals msg before it returns, so msg may be
// reused.
func (c Call) Send(msg proto.Message) error {
	if msg == nil || !msg.ProtoReflect().IsValid() {
		return errNilResponse()
	}
	return c.conn.Send(msg)
}

// Conn returns the untyped connection of the call, as interceptors see it.
func (c Call) Conn() rpc.StreamingHandlerConn { return c.conn }

// Unary runs method on req through the handler's unary interceptors (for a
// unary handler that has some) and returns its response, which the caller
// then sends. Without unary interceptors it calls method directly.
func (c Call) Unary(ctx context.Context, req proto.Message, method UnaryFunc) (proto.Message, error) {
	if c.unary == nil {
		return method(ctx, req)
	}
	res, err := c.unary(context.WithValue(ctx, unaryKey{}, method), req)
	if err != nil {
		return nil, err
	}
	msg, ok := res.(proto.Message)
	if !ok {
		return nil, rpc.NewError(rpc.CodeInternal, "interceptor returned a response that is not a proto.Message")
	}
	return msg, nil
}

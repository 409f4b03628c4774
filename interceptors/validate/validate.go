// Package validate checks messages against the validation rules in their
// proto definitions (protovalidate, the buf.validate options) on clients and
// handlers, for unary calls and streams.
//
//	rpc.WithHandlerInterceptors(validate.New()) // or WithClientInterceptors
//
// A request that breaks its rules fails with INVALID_ARGUMENT, and the
// violations travel as an error detail of type buf.validate.Violations
// (read them with (*rpc.Error).Details). On a handler the method never sees
// the request: a unary method is not called, and a stream's Receive returns
// the error (the handler returns it, as it returns any error of Receive). On
// a client the request is not sent: a unary call fails at once, and a
// stream's Send returns the error.
//
// With WithResponses, responses are checked too; a response that breaks its
// rules is the server's fault and fails with INTERNAL, the violations
// attached: on a handler it is not sent, on a client it is not returned.
//
// Messages that are not proto messages are passed through unchecked. A
// message whose rules cannot be evaluated (a broken CEL expression, say)
// fails with INTERNAL.
//
// This package is a module of its own, polyconnect.dev/interceptors/validate,
// because protovalidate brings CEL (cel.dev/cel-go) and its dependencies,
// which the other interceptors do not need.
package validate

import (
	"context"
	"errors"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc"
)

// Option configures the interceptor.
type Option interface{ apply(*Interceptor) }

type optionFunc func(*Interceptor)

func (f optionFunc) apply(i *Interceptor) { f(i) }

// WithValidator sets the validator; the default is
// protovalidate.GlobalValidator.
func WithValidator(v protovalidate.Validator) Option {
	return optionFunc(func(i *Interceptor) { i.validator = v })
}

// WithResponses checks responses as well as requests.
func WithResponses() Option { return optionFunc(func(i *Interceptor) { i.responses = true }) }

// New returns an interceptor that validates requests, and with
// WithResponses responses, on clients and handlers.
func New(opts ...Option) *Interceptor {
	i := &Interceptor{validator: protovalidate.GlobalValidator}
	for _, o := range opts {
		o.apply(i)
	}
	return i
}

// Interceptor validates messages. It is an rpc.ClientInterceptor and an
// rpc.HandlerInterceptor. It is safe for concurrent use.
type Interceptor struct {
	validator protovalidate.Validator
	responses bool
}

// check validates msg; code is the code of a violation (INVALID_ARGUMENT
// for requests, INTERNAL for responses).
func (i *Interceptor) check(msg any, code rpc.Code) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil
	}
	err := i.validator.Validate(m)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return rpc.NewError(rpc.CodeInternal, "validation rules cannot be evaluated: "+err.Error()).WithCause(err)
	}
	rerr := rpc.NewError(code, verr.Error()).WithCause(err)
	if derr := rerr.AddDetail(verr.ToProto()); derr != nil {
		return rpc.NewError(rpc.CodeInternal, "validation: "+derr.Error()).WithCause(err)
	}
	return rerr
}

func (i *Interceptor) checkRequest(msg any) error { return i.check(msg, rpc.CodeInvalidArgument) }

func (i *Interceptor) checkResponse(msg any) error {
	if !i.responses {
		return nil
	}
	return i.check(msg, rpc.CodeInternal)
}

// unary validates the request of a unary call before next and its response
// after.
func (i *Interceptor) unary(ctx context.Context, req any, next func(context.Context, any) (any, error)) (any, error) {
	if err := i.checkRequest(req); err != nil {
		return nil, err
	}
	res, err := next(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := i.checkResponse(res); err != nil {
		return nil, err
	}
	return res, nil
}

// WrapClientUnary implements rpc.ClientInterceptor: an invalid request is
// not sent.
func (i *Interceptor) WrapClientUnary(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) { return i.unary(ctx, req, next) }
}

// WrapClientStream implements rpc.ClientInterceptor: an invalid request
// fails its Send.
func (i *Interceptor) WrapClientStream(_ rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		conn, err := next(ctx)
		if err != nil {
			return nil, err
		}
		return &clientConn{StreamingClientConn: conn, i: i}, nil
	}
}

// WrapHandlerCall implements rpc.HandlerInterceptor: a stream's invalid
// request fails the handler's Receive. Unary requests are checked in the
// unary chain.
func (i *Interceptor) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	if spec.StreamType == rpc.StreamTypeUnary {
		return next
	}
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		return next(ctx, &handlerConn{StreamingHandlerConn: conn, i: i})
	}
}

// WrapHandlerUnary implements rpc.HandlerInterceptor: the method never sees
// an invalid request.
func (i *Interceptor) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return func(ctx context.Context, req any) (any, error) { return i.unary(ctx, req, next) }
}

type clientConn struct {
	rpc.StreamingClientConn
	i *Interceptor
}

func (c *clientConn) Send(msg any) error {
	if err := c.i.checkRequest(msg); err != nil {
		return err
	}
	return c.StreamingClientConn.Send(msg)
}

func (c *clientConn) Receive(msg any) error {
	if err := c.StreamingClientConn.Receive(msg); err != nil {
		return err
	}
	return c.i.checkResponse(msg)
}

type handlerConn struct {
	rpc.StreamingHandlerConn
	i *Interceptor
}

func (c *handlerConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	return c.i.checkRequest(msg)
}

func (c *handlerConn) Send(msg any) error {
	if err := c.i.checkResponse(msg); err != nil {
		return err
	}
	return c.StreamingHandlerConn.Send(msg)
}

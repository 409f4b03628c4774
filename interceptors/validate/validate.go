// Package validate checks messages against the validation rules in their
// proto definitions (protovalidate, the buf.validate options) on clients and
// handlers, for unary calls and streams.
//
//	rpc.WithInterceptors(validate.New())
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
type Option interface{ apply(*interceptor) }

type optionFunc func(*interceptor)

func (f optionFunc) apply(i *interceptor) { f(i) }

// WithValidator sets the validator; the default is
// protovalidate.GlobalValidator.
func WithValidator(v protovalidate.Validator) Option {
	return optionFunc(func(i *interceptor) { i.validator = v })
}

// WithResponses checks responses as well as requests.
func WithResponses() Option { return optionFunc(func(i *interceptor) { i.responses = true }) }

// New returns an interceptor that validates requests, and with
// WithResponses responses, on clients and handlers.
func New(opts ...Option) rpc.Interceptor {
	i := &interceptor{validator: protovalidate.GlobalValidator}
	for _, o := range opts {
		o.apply(i)
	}
	return i
}

type interceptor struct {
	validator protovalidate.Validator
	responses bool
}

// check validates msg; code is the code of a violation (INVALID_ARGUMENT
// for requests, INTERNAL for responses).
func (i *interceptor) check(msg any, code rpc.Code) error {
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

func (i *interceptor) checkRequest(msg any) error { return i.check(msg, rpc.CodeInvalidArgument) }

func (i *interceptor) checkResponse(msg any) error {
	if !i.responses {
		return nil
	}
	return i.check(msg, rpc.CodeInternal)
}

func (i *interceptor) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
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
}

func (i *interceptor) WrapStreamingClient(next rpc.StreamingClientFunc) rpc.StreamingClientFunc {
	return func(ctx context.Context, spec rpc.Spec) rpc.StreamingClientConn {
		return &clientConn{StreamingClientConn: next(ctx, spec), i: i}
	}
}

func (i *interceptor) WrapStreamingHandler(next rpc.StreamingHandlerFunc) rpc.StreamingHandlerFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		return next(ctx, &handlerConn{StreamingHandlerConn: conn, i: i})
	}
}

type clientConn struct {
	rpc.StreamingClientConn
	i *interceptor
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
	i *interceptor
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

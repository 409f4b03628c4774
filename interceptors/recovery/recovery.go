// Package recovery turns a panic in a handler into an INTERNAL error, so one
// bad request costs one failed call rather than the connection (net/http's
// own recovery closes it) or the process.
//
//	mux.Handle(greetv1rpc.NewGreetServiceHandler(svc, rpc.WithHandlerInterceptors(recovery.New())))
//
// The panic value and the stack are logged, never sent: the client sees
// only "internal error". A panic of [http.ErrAbortHandler], net/http's way of
// aborting a response on purpose, is passed on. Put the interceptor first in
// the handler's list: it runs in the handler's call chain, around everything
// after it, so it covers the interceptors after it (their checks before the
// request is read included), the decoding of a unary request and the method.
// It covers the handler's own goroutine only: a panic in a goroutine the
// handler starts still ends the process, as Go panics do.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"polyconnect.dev/protocol/rpc"
)

// Option configures the interceptor.
type Option interface{ apply(*config) }

type config struct {
	logger  *slog.Logger
	handler func(ctx context.Context, value any, stack []byte) error
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithLogger sets the logger that records each panic, at level Error, with
// the procedure, the panic value and the stack. The default is
// slog.Default(); nil disables logging.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithHandler sets a function that runs after a panic is logged, with the
// panic value and the stack, and returns the error the client receives. An
// error that is not an *rpc.Error is sent as INTERNAL. The default sends
// INTERNAL "internal error". The function must not send the panic value or
// the stack to the client unless that is what you mean.
func WithHandler(fn func(ctx context.Context, value any, stack []byte) error) Option {
	return optionFunc(func(c *config) { c.handler = fn })
}

// New returns a handler interceptor that recovers panics in handlers, unary
// and streaming, and in the interceptors after it.
func New(opts ...Option) rpc.HandlerInterceptor {
	c := &config{logger: slog.Default()}
	for _, o := range opts {
		o.apply(c)
	}
	return &interceptor{cfg: c}
}

type interceptor struct{ cfg *config }

// WrapHandlerCall implements rpc.HandlerInterceptor: the whole call, of
// every kind, runs under the recovery.
func (i *interceptor) WrapHandlerCall(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = i.recovered(ctx, v)
			}
		}()
		return next(ctx, conn)
	}
}

// WrapHandlerUnary implements rpc.HandlerInterceptor: the unary chain runs
// inside the call chain, which is covered already.
func (i *interceptor) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return next
}

// recovered handles the panic value v in the deferred function that caught
// it, so the stack still shows where it happened.
func (i *interceptor) recovered(ctx context.Context, v any) error {
	if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(v)
	}
	stack := debug.Stack()
	if l := i.cfg.logger; l != nil {
		procedure := ""
		if info, ok := rpc.HandlerCallInfo(ctx); ok {
			procedure = info.Procedure()
		}
		l.LogAttrs(ctx, slog.LevelError, "panic in handler",
			slog.String("rpc.procedure", procedure),
			slog.String("panic", fmt.Sprint(v)),
			slog.String("stack", string(stack)))
	}
	if i.cfg.handler != nil {
		err := i.cfg.handler(ctx, v, stack)
		var rerr *rpc.Error
		if errors.As(err, &rerr) {
			return rerr
		}
		if err != nil {
			return rpc.NewError(rpc.CodeInternal, "internal error").WithCause(err)
		}
	}
	return rpc.NewError(rpc.CodeInternal, "internal error")
}

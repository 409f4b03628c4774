package timeout

import (
	"context"

	"polyconnect.dev/protocol/rpc"
)

// WrapHandlerCall implements rpc.HandlerInterceptor: the deadline bounds the
// whole call, from before the request is read. A stream that succeeds after
// it reports DEADLINE_EXCEEDED; a unary call is judged in the unary chain,
// before its response is sent.
func (i *Interceptor) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	l := i.cfg.limits(spec.Procedure)
	if l.none() {
		return next
	}
	unary := spec.StreamType == rpc.StreamTypeUnary
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		d, ok := l.deadline(ctx)
		if !ok {
			return next(ctx, conn)
		}
		ctx, cancel := context.WithDeadline(ctx, d)
		defer cancel()
		err := next(ctx, conn)
		if unary {
			return err
		}
		return late(ctx, err)
	}
}

// WrapHandlerUnary implements rpc.HandlerInterceptor: a unary method that
// returns after the deadline reports DEADLINE_EXCEEDED instead of its
// response.
func (i *Interceptor) WrapHandlerUnary(spec rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	if i.cfg.limits(spec.Procedure).none() {
		return next
	}
	return func(ctx context.Context, req any) (any, error) {
		res, err := next(ctx, req)
		if err = late(ctx, err); err != nil {
			return nil, err
		}
		return res, nil
	}
}

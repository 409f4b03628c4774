package timeout

import (
	"context"

	"polyconnect.dev/protocol/rpc"
)

// WrapClientUnary implements rpc.ClientInterceptor: the deadline travels to
// the server in the protocol's timeout header.
func (i *Interceptor) WrapClientUnary(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	l := i.cfg.limits(spec.Procedure)
	if l.none() {
		return next
	}
	return func(ctx context.Context, req any) (any, error) {
		d, ok := l.deadline(ctx)
		if !ok {
			return next(ctx, req)
		}
		ctx, cancel := context.WithDeadline(ctx, d)
		defer cancel()
		return next(ctx, req)
	}
}

// WrapClientStream implements rpc.ClientInterceptor: the deadline covers
// the stream until it ends.
func (i *Interceptor) WrapClientStream(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	l := i.cfg.limits(spec.Procedure)
	if l.none() {
		return next
	}
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		d, ok := l.deadline(ctx)
		if !ok {
			return next(ctx)
		}
		ctx, cancel := context.WithDeadline(ctx, d)
		conn, err := next(ctx)
		if err != nil {
			cancel()
			return nil, err
		}
		return &clientConn{StreamingClientConn: conn, cancel: cancel}, nil
	}
}

// clientConn releases the deadline's timer when the stream ends.
type clientConn struct {
	rpc.StreamingClientConn
	cancel context.CancelFunc
}

func (c *clientConn) Receive(msg any) error {
	err := c.StreamingClientConn.Receive(msg)
	if err != nil {
		// The call is over (io.EOF or its status): nothing needs the
		// context any more.
		c.cancel()
	}
	return err
}

func (c *clientConn) CloseResponse() error {
	err := c.StreamingClientConn.CloseResponse()
	c.cancel()
	return err
}

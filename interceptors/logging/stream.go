package logging

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"polyconnect.dev/protocol/rpc"
)

// streamCounts counts a stream's messages from its two goroutines.
type streamCounts struct {
	reqMsgs, resMsgs   atomic.Int64
	reqBytes, resBytes atomic.Int64
}

func (s *streamCounts) load() counts {
	return counts{
		reqMsgs: s.reqMsgs.Load(), resMsgs: s.resMsgs.Load(),
		reqBytes: s.reqBytes.Load(), resBytes: s.resBytes.Load(),
	}
}

func (i *interceptor) WrapStreamingClient(next rpc.StreamingClientFunc) rpc.StreamingClientFunc {
	return func(ctx context.Context, spec rpc.Spec) rpc.StreamingClientConn {
		if !i.logger.Enabled(ctx, i.topLevel) {
			return next(ctx, spec)
		}
		info, ok := rpc.CallInfoFromContext(ctx)
		if !ok {
			return next(ctx, spec)
		}
		return &clientConn{StreamingClientConn: next(ctx, spec), i: i, ctx: ctx, info: info, start: time.Now()}
	}
}

// clientConn counts a client stream's messages and logs the call when it
// ends: when Receive reports the end or an error, or when the response side
// is closed before that.
type clientConn struct {
	rpc.StreamingClientConn
	i     *interceptor
	ctx   context.Context
	info  *rpc.CallInfo
	start time.Time
	n     streamCounts
	once  sync.Once
	// failed holds the first error of Send or CloseRequest other than
	// io.EOF: the call's outcome if it is closed without reaching its end.
	failed atomic.Pointer[error]
}

func (c *clientConn) sendFailed(err error) {
	if err != nil && !errors.Is(err, io.EOF) {
		c.failed.CompareAndSwap(nil, &err)
	}
}

func (c *clientConn) end(err error) {
	c.once.Do(func() { c.i.log(c.ctx, c.info, c.start, err, c.n.load()) })
}

func (c *clientConn) Send(msg any) error {
	err := c.StreamingClientConn.Send(msg)
	c.sendFailed(err)
	if err == nil {
		c.n.reqMsgs.Add(1)
		c.n.reqBytes.Add(c.i.size(msg))
		if c.i.payloads {
			c.i.logMessage(c.ctx, c.info, "sent", msg)
		}
	}
	return err
}

func (c *clientConn) Receive(msg any) error {
	err := c.StreamingClientConn.Receive(msg)
	switch {
	case err == nil:
		c.n.resMsgs.Add(1)
		c.n.resBytes.Add(c.i.size(msg))
		if c.i.payloads {
			c.i.logMessage(c.ctx, c.info, "received", msg)
		}
	case errors.Is(err, io.EOF):
		c.end(nil)
	default:
		c.end(err)
	}
	return err
}

func (c *clientConn) CloseRequest() error {
	err := c.StreamingClientConn.CloseRequest()
	c.sendFailed(err)
	return err
}

func (c *clientConn) CloseResponse() error {
	err := c.StreamingClientConn.CloseResponse()
	// A stream closed before its end failed to send, or was abandoned by
	// the caller.
	if failed := c.failed.Load(); failed != nil {
		c.end(*failed)
	} else {
		c.end(rpc.NewError(rpc.CodeCanceled, "stream closed before its end"))
	}
	return err
}

func (i *interceptor) WrapStreamingHandler(next rpc.StreamingHandlerFunc) rpc.StreamingHandlerFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		if !i.logger.Enabled(ctx, i.topLevel) {
			return next(ctx, conn)
		}
		info, ok := rpc.CallInfoFromContext(ctx)
		if !ok {
			return next(ctx, conn)
		}
		start := time.Now()
		hc := &handlerConn{StreamingHandlerConn: conn, i: i, ctx: ctx, info: info}
		err := next(ctx, hc)
		i.log(ctx, info, start, err, hc.n.load())
		return err
	}
}

// handlerConn counts a handler stream's messages.
type handlerConn struct {
	rpc.StreamingHandlerConn
	i    *interceptor
	ctx  context.Context
	info *rpc.CallInfo
	n    streamCounts
}

func (c *handlerConn) Receive(msg any) error {
	err := c.StreamingHandlerConn.Receive(msg)
	if err == nil {
		c.n.reqMsgs.Add(1)
		c.n.reqBytes.Add(c.i.size(msg))
		if c.i.payloads {
			c.i.logMessage(c.ctx, c.info, "received", msg)
		}
	}
	return err
}

func (c *handlerConn) Send(msg any) error {
	err := c.StreamingHandlerConn.Send(msg)
	if err == nil {
		c.n.resMsgs.Add(1)
		c.n.resBytes.Add(c.i.size(msg))
		if c.i.payloads {
			c.i.logMessage(c.ctx, c.info, "sent", msg)
		}
	}
	return err
}

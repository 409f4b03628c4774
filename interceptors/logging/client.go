package logging

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"polyconnect.dev/protocol/rpc"
)

// streamCounts counts a stream's messages from its two goroutines.
type streamCounts struct {
	reqMsgs, resMsgs   atomic.Int64
	reqBytes, resBytes atomic.Int64
	reqWire, resWire   atomic.Int64
}

func (s *streamCounts) load() counts {
	return counts{
		reqMsgs: s.reqMsgs.Load(), resMsgs: s.resMsgs.Load(),
		reqBytes: s.reqBytes.Load(), resBytes: s.resBytes.Load(),
		reqWire: s.reqWire.Load(), resWire: s.resWire.Load(),
	}
}

// WrapClientUnary implements rpc.ClientInterceptor: one record per call (or
// per attempt, placed after a retry interceptor).
func (i *Interceptor) WrapClientUnary(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		if !i.logger.Enabled(ctx, i.topLevel) {
			return next(ctx, req)
		}
		info, ok := rpc.ClientCallInfo(ctx)
		if !ok {
			return next(ctx, req)
		}
		start := time.Now()
		i.logStart(ctx, sideClient, info)
		finish := i.logs(FinishCall)
		if !finish && i.logs(PayloadSent) {
			i.logMessage(ctx, info, "sent", req)
		}
		res, err := next(ctx, req)
		if !finish {
			if err == nil && i.logs(PayloadReceived) {
				i.logMessage(ctx, info, "received", res)
			}
			return res, err
		}
		level := i.level(err)
		if !i.logger.Enabled(ctx, level) {
			return res, err
		}
		c := counts{reqMsgs: 1, reqBytes: i.size(req), reqWire: i.wire(info.LastSentSize())}
		if err == nil {
			c.resMsgs, c.resBytes, c.resWire = 1, i.size(res), i.wire(info.LastReceivedSize())
		}
		if i.logs(PayloadSent | PayloadReceived) {
			var extra []slog.Attr
			if i.logs(PayloadSent) {
				extra = append(extra, slog.Any("rpc.request", payload{req}))
			}
			if err == nil && i.logs(PayloadReceived) {
				extra = append(extra, slog.Any("rpc.response", payload{res}))
			}
			i.emit(ctx, level, sideClient, info, start, err, c, extra...)
		} else {
			i.emit(ctx, level, sideClient, info, start, err, c)
		}
		return res, err
	}
}

// WrapClientStream implements rpc.ClientInterceptor: a stream is logged when
// it ends, or when opening it fails.
func (i *Interceptor) WrapClientStream(_ rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		if !i.logger.Enabled(ctx, i.topLevel) {
			return next(ctx)
		}
		info, ok := rpc.ClientCallInfo(ctx)
		if !ok {
			return next(ctx)
		}
		start := time.Now()
		i.logStart(ctx, sideClient, info)
		conn, err := next(ctx)
		if err != nil {
			i.log(ctx, sideClient, info, start, err, counts{})
			return nil, err
		}
		return &clientConn{StreamingClientConn: conn, i: i, ctx: ctx, info: info, start: start}, nil
	}
}

// clientConn counts a client stream's messages and logs the call when it
// ends: when Receive reports the end or an error, or when the response side
// is closed before that.
type clientConn struct {
	rpc.StreamingClientConn
	i     *Interceptor
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
	c.once.Do(func() { c.i.log(c.ctx, sideClient, c.info, c.start, err, c.n.load()) })
}

func (c *clientConn) Send(msg any) error {
	err := c.StreamingClientConn.Send(msg)
	c.sendFailed(err)
	if err == nil {
		c.n.reqMsgs.Add(1)
		c.n.reqBytes.Add(c.i.size(msg))
		c.n.reqWire.Add(c.i.wire(c.info.LastSentSize()))
		if c.i.logs(PayloadSent) {
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
		c.n.resWire.Add(c.i.wire(c.info.LastReceivedSize()))
		if c.i.logs(PayloadReceived) {
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

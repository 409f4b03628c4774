package logging

import (
	"context"
	"log/slog"
	"time"

	"polyconnect.dev/protocol/rpc"
)

// WrapHandlerCall implements rpc.HandlerInterceptor: one record per call, of
// every kind, from before its request is read to its end, so a call refused
// by an interceptor after this one is logged with the refusal's code.
func (i *Interceptor) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	unary := spec.StreamType == rpc.StreamTypeUnary
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		if !i.logger.Enabled(ctx, i.topLevel) {
			return next(ctx, conn)
		}
		info, ok := rpc.HandlerCallInfo(ctx)
		if !ok {
			return next(ctx, conn)
		}
		start := time.Now()
		i.logStart(ctx, sideServer, info)
		hc := &handlerConn{StreamingHandlerConn: conn, i: i, ctx: ctx, info: info, unary: unary && i.logs(FinishCall)}
		err := next(ctx, hc)
		level := i.level(err)
		if !i.logs(FinishCall) || !i.logger.Enabled(ctx, level) {
			return err
		}
		if hc.unary {
			var extra []slog.Attr
			if hc.req != nil {
				extra = append(extra, slog.Any("rpc.request", payload{hc.req}))
			}
			if hc.res != nil && err == nil {
				extra = append(extra, slog.Any("rpc.response", payload{hc.res}))
			}
			i.emit(ctx, level, sideServer, info, start, err, hc.n.load(), extra...)
		} else {
			i.emit(ctx, level, sideServer, info, start, err, hc.n.load())
		}
		return err
	}
}

// WrapHandlerUnary implements rpc.HandlerInterceptor: the call chain sees
// everything, so the unary chain is left alone.
func (i *Interceptor) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return next
}

// handlerConn counts a handler call's messages. For a unary call with
// payloads it keeps the request and the response for the record; a stream
// logs each message as it goes.
type handlerConn struct {
	rpc.StreamingHandlerConn
	i        *Interceptor
	ctx      context.Context
	info     *rpc.CallInfo
	n        streamCounts
	unary    bool // unary, with a FinishCall record to put payloads in
	req, res any  // unary with payloads
}

func (c *handlerConn) Receive(msg any) error {
	err := c.StreamingHandlerConn.Receive(msg)
	if err == nil {
		c.n.reqMsgs.Add(1)
		c.n.reqBytes.Add(c.i.size(msg))
		c.n.reqWire.Add(c.i.wire(c.info.LastReceivedSize()))
		if c.i.logs(PayloadReceived) {
			if c.unary {
				c.req = msg
			} else {
				c.i.logMessage(c.ctx, c.info, "received", msg)
			}
		}
	}
	return err
}

func (c *handlerConn) Send(msg any) error {
	err := c.StreamingHandlerConn.Send(msg)
	if err == nil {
		c.n.resMsgs.Add(1)
		c.n.resBytes.Add(c.i.size(msg))
		c.n.resWire.Add(c.i.wire(c.info.LastSentSize()))
		if c.i.logs(PayloadSent) {
			if c.unary {
				c.res = msg
			} else {
				c.i.logMessage(c.ctx, c.info, "sent", msg)
			}
		}
	}
	return err
}

package otelrpc

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"

	"polyconnect.dev/protocol/rpc"
)

// callKey is the context key of the client call in progress, for the
// attempt interceptor.
type callKey struct{}

// Attempts returns the interceptor that gives each attempt of a client call
// a span of its own, for clients that retry. Place the Interceptor before
// the retrying interceptor and Attempts after it:
//
//	otel := otelrpc.NewInterceptor()
//	rpc.WithClientInterceptors(otel, retry.New(), otel.Attempts())
//
// The Interceptor's CLIENT span then covers the whole call, as the semantic
// conventions define it, with the final status and the call's duration
// metric, and the retrying interceptor runs the Attempts interceptor once
// per attempt: each attempt gets a child span of kind INTERNAL, named like
// the call, with the attribute polyconnect.rpc.attempt (1, 2, …) and the
// attempt's own rpc.response.status_code, error.type and status. The trace
// context sent to the server is the call span's, so server spans are
// children of the CLIENT span on every attempt.
//
// Used without the Interceptor around it (or where that one filtered the
// call out and this one does not), the Attempts interceptor does the
// Interceptor's whole job for each attempt: a CLIENT span per attempt,
// sibling spans with no span for the call.
func (i *Interceptor) Attempts() rpc.ClientInterceptor {
	i.attempts.Store(true)
	return attemptInterceptor{i: i}
}

type attemptInterceptor struct{ i *Interceptor }

// parent returns the call of this interceptor that the attempt belongs to:
// the one in ctx, if it is a call of the same procedure. An attempt may
// have a CallInfo of its own (hedged attempts run concurrently, so they
// need one each): the call infos need not be the same, and one that an
// interceptor made with rpc.NewClientContext names no procedure until the
// innermost step of the chain fills it in.
func (a attemptInterceptor) parent(ctx context.Context, info *rpc.CallInfo) *call {
	c, ok := ctx.Value(callKey{}).(*call)
	if !ok || c.i != a.i {
		return nil
	}
	if p := info.Procedure(); p != "" && p != c.procedure {
		return nil
	}
	return c
}

// newAttempt returns the state of the next attempt of c, made with info,
// or nil when c has no span to put it under.
func (c *call) newAttempt(info *rpc.CallInfo) *call {
	if c.span == nil {
		return nil
	}
	return &call{
		i:         c.i,
		ins:       c.ins,
		kind:      kindAttempt,
		info:      info,
		protocol:  c.protocol,
		procedure: c.procedure,
		tracing:   true,
		start:     time.Now(),
		attempt:   c.attempts.Add(1),
	}
}

// startAttempt starts the attempt's span under the call's.
func (c *call) startAttempt(ctx context.Context) context.Context {
	attrs := c.baseAttributes(c.attrs[:0], false)
	attrs = append(attrs, attemptKey.Int64(c.attempt))
	attrs = c.i.cfg.filterAttributes(attrs)
	opts := append(c.startOpts[:0], internalKind, trace.WithAttributes(attrs...))
	ctx, c.span = c.i.tracer.Start(ctx, methodName(c.procedure), opts...)
	c.ctx = ctx
	return ctx
}

// WrapClientUnary implements rpc.ClientInterceptor.
func (a attemptInterceptor) WrapClientUnary(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	skipped := a.i.skipped(spec)
	return func(ctx context.Context, req any) (any, error) {
		info, ok := rpc.ClientCallInfo(ctx)
		if !ok {
			return next(ctx, req)
		}
		parent := a.parent(ctx, info)
		if parent == nil {
			if skipped || info.Procedure() == "" || !a.i.instrument(ctx, spec) {
				return next(ctx, req)
			}
			return a.i.unaryClient(ctx, info, req, next)
		}
		c := parent.newAttempt(info)
		if c == nil {
			return next(ctx, req)
		}
		ctx = c.startAttempt(ctx)
		res, err := next(ctx, req)
		c.finish(err)
		return res, err
	}
}

// WrapClientStream implements rpc.ClientInterceptor.
func (a attemptInterceptor) WrapClientStream(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	skipped := a.i.skipped(spec)
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		info, ok := rpc.ClientCallInfo(ctx)
		if !ok {
			return next(ctx)
		}
		parent := a.parent(ctx, info)
		if parent == nil {
			if skipped || info.Procedure() == "" || !a.i.instrument(ctx, spec) {
				return next(ctx)
			}
			return a.i.streamClient(ctx, info, next)
		}
		c := parent.newAttempt(info)
		if c == nil {
			return next(ctx)
		}
		ctx = c.startAttempt(ctx)
		inner, err := next(ctx)
		if err != nil {
			c.finish(err)
			return nil, err
		}
		conn := &clientConn{StreamingClientConn: inner, call: c}
		if ctx.Done() != nil {
			conn.stop = context.AfterFunc(ctx, conn.abandon)
		}
		return conn, nil
	}
}

// Package ratelimit refuses calls beyond a rate with RESOURCE_EXHAUSTED.
//
// A [Limiter] decides, per key, whether one more call may run; a [KeyFunc]
// derives the key from the call: its procedure ([ByProcedure], the default),
// the peer's host ([ByPeer]), both, or anything in the call info such as a
// tenant header. [TokenBucket] is a limiter with a bucket per key and a
// bounded number of keys.
//
//	limiter := ratelimit.NewTokenBucket(100, 20) // 100 calls a second, bursts of 20
//	rpc.WithInterceptors(ratelimit.New(limiter, ratelimit.WithKey(ratelimit.ByPeer)))
//
// The interceptor works on handlers (refusing work) and on clients
// (throttling what a process sends), for unary calls and streams; a stream
// counts as one call, checked when it opens, before any message is read.
package ratelimit

import (
	"context"
	"net"

	"polyconnect.dev/interceptors/internal/callx"
	"polyconnect.dev/protocol/rpc"
)

// Limiter decides whether a call may run. Implementations must be safe for
// concurrent use.
type Limiter interface {
	// Allow reports whether one more call for key may run now, and counts
	// it if so.
	Allow(ctx context.Context, key string) bool
}

// KeyFunc returns the key a call is limited by. info is the call's call
// info; on a client stream its Spec is the stream's.
type KeyFunc func(ctx context.Context, info *rpc.CallInfo) string

// ByProcedure limits each procedure separately.
func ByProcedure(_ context.Context, info *rpc.CallInfo) string { return info.Procedure() }

// ByPeer limits each peer host (the address without its port, so the
// connections of one client share a limit) separately. On a client the peer
// is the server.
func ByPeer(_ context.Context, info *rpc.CallInfo) string { return peerHost(info.Peer().Addr) }

// ByProcedureAndPeer limits each procedure of each peer host separately.
func ByProcedureAndPeer(_ context.Context, info *rpc.CallInfo) string {
	return info.Procedure() + " " + peerHost(info.Peer().Addr)
}

// Global puts every call under one limit.
func Global(context.Context, *rpc.CallInfo) string { return "" }

func peerHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// Option configures the interceptor.
type Option interface{ apply(*config) }

type config struct {
	key     KeyFunc
	message string
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithKey sets how calls are keyed; the default is ByProcedure.
func WithKey(fn KeyFunc) Option { return optionFunc(func(c *config) { c.key = fn }) }

// WithMessage sets the message of the RESOURCE_EXHAUSTED error; the default
// is "rate limit exceeded".
func WithMessage(msg string) Option { return optionFunc(func(c *config) { c.message = msg }) }

// New returns an interceptor that asks l before each call and refuses the
// call with RESOURCE_EXHAUSTED when l says no.
func New(l Limiter, opts ...Option) rpc.Interceptor {
	c := &config{key: ByProcedure, message: "rate limit exceeded"}
	for _, o := range opts {
		o.apply(c)
	}
	return &interceptor{limiter: l, cfg: c}
}

type interceptor struct {
	limiter Limiter
	cfg     *config
}

func (i *interceptor) allow(ctx context.Context) error {
	info, ok := rpc.CallInfoFromContext(ctx)
	if !ok {
		return nil
	}
	if i.limiter.Allow(ctx, i.cfg.key(ctx, info)) {
		return nil
	}
	return rpc.NewError(rpc.CodeResourceExhausted, i.cfg.message)
}

func (i *interceptor) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		if err := i.allow(ctx); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i *interceptor) WrapStreamingClient(next rpc.StreamingClientFunc) rpc.StreamingClientFunc {
	return func(ctx context.Context, spec rpc.Spec) rpc.StreamingClientConn {
		if err := i.allow(ctx); err != nil {
			return callx.FailedClientConn(ctx, spec, err)
		}
		return next(ctx, spec)
	}
}

func (i *interceptor) WrapStreamingHandler(next rpc.StreamingHandlerFunc) rpc.StreamingHandlerFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		if err := i.allow(ctx); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

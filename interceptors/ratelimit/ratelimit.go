// Package ratelimit refuses calls beyond a rate with RESOURCE_EXHAUSTED.
//
// A [Limiter] decides, per key, whether one more call may run; a [KeyFunc]
// derives the key from the call: its procedure ([ByProcedure], the default),
// the peer's host ([ByPeer]), both, or anything in the call info such as a
// tenant header. [TokenBucket] is a limiter with a bucket per key and a
// bounded number of keys.
//
//	limiter := ratelimit.NewTokenBucket(100, 20) // 100 calls a second, bursts of 20
//	rpc.WithHandlerInterceptors(ratelimit.New(limiter, ratelimit.WithKey(ratelimit.ByPeer)))
//
// The interceptor works on handlers (refusing work) and on clients
// (throttling what a process sends), for unary calls and streams; a stream
// counts as one call. A handler checks each call in its call chain, before
// the request is read, so a refused call costs no decoding and the
// interceptors before this one see it refused; a client checks a stream as
// it opens, and a refused stream fails to open.
package ratelimit

import (
	"context"
	"net"

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
// info: the outgoing call's on a client, the served call's on a handler.
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
func New(l Limiter, opts ...Option) *Interceptor {
	c := &config{key: ByProcedure, message: "rate limit exceeded"}
	for _, o := range opts {
		o.apply(c)
	}
	return &Interceptor{limiter: l, cfg: c}
}

// Interceptor limits the rate of calls. It is an rpc.ClientInterceptor and
// an rpc.HandlerInterceptor. It is safe for concurrent use.
type Interceptor struct {
	limiter Limiter
	cfg     *config
}

// allow asks the limiter about the call whose info is info.
func (i *Interceptor) allow(ctx context.Context, info *rpc.CallInfo, ok bool) error {
	if !ok {
		return nil
	}
	if i.limiter.Allow(ctx, i.cfg.key(ctx, info)) {
		return nil
	}
	return rpc.NewError(rpc.CodeResourceExhausted, i.cfg.message)
}

// WrapClientUnary implements rpc.ClientInterceptor.
func (i *Interceptor) WrapClientUnary(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		info, ok := rpc.ClientCallInfo(ctx)
		if err := i.allow(ctx, info, ok); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapClientStream implements rpc.ClientInterceptor: a refused stream fails
// to open.
func (i *Interceptor) WrapClientStream(_ rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		info, ok := rpc.ClientCallInfo(ctx)
		if err := i.allow(ctx, info, ok); err != nil {
			return nil, err
		}
		return next(ctx)
	}
}

// WrapHandlerCall implements rpc.HandlerInterceptor: every call is checked
// before its request is read.
func (i *Interceptor) WrapHandlerCall(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		info, ok := rpc.HandlerCallInfo(ctx)
		if err := i.allow(ctx, info, ok); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// WrapHandlerUnary implements rpc.HandlerInterceptor: unary calls were
// checked in the call chain.
func (i *Interceptor) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return next
}

package testsvc

import (
	"context"
	"slices"
	"sync"

	"polyconnect.dev/protocol/rpc"
)

// Recorder is a client and handler interceptor that records the procedure
// of every call it sees, unary and streaming (on a handler, in the call
// chain). It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *Recorder) add(procedure string) {
	r.mu.Lock()
	r.calls = append(r.calls, procedure)
	r.mu.Unlock()
}

// Calls returns the procedures seen so far, in order.
func (r *Recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Reset forgets the calls seen.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

// WrapClientUnary implements rpc.ClientInterceptor.
func (r *Recorder) WrapClientUnary(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		r.add(spec.Procedure)
		return next(ctx, req)
	}
}

// WrapClientStream implements rpc.ClientInterceptor.
func (r *Recorder) WrapClientStream(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		r.add(spec.Procedure)
		return next(ctx)
	}
}

// WrapHandlerCall implements rpc.HandlerInterceptor: every call, of every
// kind.
func (r *Recorder) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		r.add(spec.Procedure)
		return next(ctx, conn)
	}
}

// WrapHandlerUnary implements rpc.HandlerInterceptor.
func (r *Recorder) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return next
}

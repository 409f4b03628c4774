package testsvc

import (
	"context"
	"slices"
	"sync"

	"polyconnect.dev/protocol/rpc"
)

// Recorder is an interceptor that records the procedure of every call it
// sees, on clients and handlers, unary and streaming. It is safe for
// concurrent use.
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

// WrapUnary implements rpc.Interceptor.
func (r *Recorder) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		if info, ok := rpc.CallInfoFromContext(ctx); ok {
			r.add(info.Procedure())
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient implements rpc.Interceptor.
func (r *Recorder) WrapStreamingClient(next rpc.StreamingClientFunc) rpc.StreamingClientFunc {
	return func(ctx context.Context, spec rpc.Spec) rpc.StreamingClientConn {
		r.add(spec.Procedure)
		return next(ctx, spec)
	}
}

// WrapStreamingHandler implements rpc.Interceptor.
func (r *Recorder) WrapStreamingHandler(next rpc.StreamingHandlerFunc) rpc.StreamingHandlerFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		r.add(conn.Spec().Procedure)
		return next(ctx, conn)
	}
}

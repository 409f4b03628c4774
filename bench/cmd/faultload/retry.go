package main

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"polyconnect.dev/protocol/rpc"
)

// retrier retries unary calls of methods without side effects or
// idempotent, on UNAVAILABLE, up to attempts times with jittered
// exponential backoff, within the call's deadline.
//
// It stands in for polyconnect.dev/interceptors/retry until that package
// lands on main; the load run counts its retries.
type retrier struct {
	attempts int
	retries  atomic.Int64
}

func (r *retrier) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		info, _ := rpc.CallInfoFromContext(ctx)
		if info == nil || info.Spec().IdempotencyLevel == rpc.IdempotencyUnknown {
			return next(ctx, req)
		}
		wait := 10 * time.Millisecond
		for attempt := 1; ; attempt++ {
			res, err := next(ctx, req)
			if err == nil || rpc.CodeOf(err) != rpc.CodeUnavailable || attempt >= r.attempts {
				return res, err
			}
			r.retries.Add(1)
			t := time.NewTimer(time.Duration(float64(wait) * (0.5 + rand.Float64())))
			select {
			case <-ctx.Done():
				t.Stop()
				return res, err
			case <-t.C:
			}
			wait = min(2*wait, time.Second)
		}
	}
}

func (r *retrier) WrapStreamingClient(next rpc.StreamingClientFunc) rpc.StreamingClientFunc {
	return next
}

func (r *retrier) WrapStreamingHandler(next rpc.StreamingHandlerFunc) rpc.StreamingHandlerFunc {
	return next
}

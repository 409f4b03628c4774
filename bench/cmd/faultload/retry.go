package main

import (
	"context"
	"sync/atomic"
	"time"

	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
)

// retries is the retry policy of the load run: polyconnect.dev/interceptors/
// retry on UNAVAILABLE, up to 5 attempts with full-jitter backoff from 10 ms
// to 1 s, and a retry budget large enough for the bursts a killed replica
// causes (256 callers may all fail at once; the default budget of 10 tokens
// is meant to stop retry storms against one overloaded server, which is not
// what a killed replica behind a balancer is). Its inner counter sees every
// attempt and counts the retries.
type retries struct {
	n atomic.Int64
}

func (r *retries) interceptors() []rpc.ClientInterceptor {
	policy := retry.New(
		retry.WithMaxAttempts(5),
		retry.WithBackoff(10*time.Millisecond, time.Second),
		retry.WithBudget(retry.NewBudget(100_000, 0.1)),
	)
	return []rpc.ClientInterceptor{policy, rpc.ClientUnaryInterceptorFunc(r.count)}
}

// count runs once per attempt, inside the retry interceptor: attempts after
// the first carry retry.AttemptHeader.
func (r *retries) count(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		if info, ok := rpc.ClientCallInfo(ctx); ok && info.RequestHeader().Get(retry.AttemptHeader) != "" {
			r.n.Add(1)
		}
		return next(ctx, req)
	}
}

package retry

import (
	"context"
	"time"

	"polyconnect.dev/protocol/rpc"
)

// WithRetryable replaces the codes of WithCodes with a function that
// decides which failures are retried: fn gets the error of a failed
// attempt (an *rpc.Error, or the context's error) and returns true to retry
// it. The other rules still hold: only methods without side effects or
// idempotent ones are retried, unless NotReceived(err); attempts, budget,
// backoff, pushback and deadline as configured. fn must be safe for
// concurrent use.
func WithRetryable(fn func(err error) bool) Option {
	return optionFunc(func(c *config) { c.retryable = fn })
}

// RetryHook is called before each retry of a call, with the call's
// context, the number of the attempt about to start (2 for the first
// retry), the error of the attempt that failed and the backoff about to be
// waited (0 for a hedged call, whose next attempt starts at once). It runs
// on the goroutine making the call and must not block for long.
type RetryHook func(ctx context.Context, attempt int, err error, delay time.Duration)

// WithOnRetry sets a hook called before each retry, to log or count them.
// Hedged attempts started because the hedging delay passed are not
// retries and do not call it; those started after a failure do.
func WithOnRetry(hook RetryHook) Option {
	return optionFunc(func(c *config) { c.onRetry = hook })
}

// optionsKey carries per-call options on a context.
type optionsKey struct{}

// ContextWithOptions returns a context whose calls the retry interceptor
// makes with opts applied over its own options, for this call only: more
// attempts for a call that matters, none for one that must fail fast
// (WithMaxAttempts(1)), other codes, another hook. Options given again on
// a derived context are added to the earlier ones. The interceptor decides
// when the client is built to leave alone what it never retries (it was
// built with WithMaxAttempts(1); streams of methods with side effects when
// UNAVAILABLE is not among its codes and it has no WithRetryable); a
// per-call option cannot turn retries on there. WithHedging applies per
// call, to methods without side effects.
func ContextWithOptions(ctx context.Context, opts ...Option) context.Context {
	if prev, ok := ctx.Value(optionsKey{}).([]Option); ok {
		opts = append(append([]Option(nil), prev...), opts...)
	}
	return context.WithValue(ctx, optionsKey{}, opts)
}

// callConfig returns the configuration of a call made with ctx: the
// interceptor's, or a copy with the call's options applied.
func (i *interceptor) callConfig(ctx context.Context) *config {
	opts, ok := ctx.Value(optionsKey{}).([]Option)
	if !ok || len(opts) == 0 {
		return i.cfg
	}
	c := *i.cfg
	for _, o := range opts {
		o.apply(&c)
	}
	return &c
}

// retryableErr reports whether the failure err is retried.
func (c *config) retryableErr(err error) bool {
	if c.retryable != nil {
		return c.retryable(err)
	}
	return c.codes[rpc.CodeOf(err)]
}

// retrying calls the retry hook, if any.
func (c *config) retrying(ctx context.Context, attempt int, err error, delay time.Duration) {
	if c.onRetry != nil {
		c.onRetry(ctx, attempt, err, delay)
	}
}

// Package retry retries failed client calls that are safe to repeat, with
// exponential backoff, full jitter and a retry budget, and optionally hedges
// calls that have no side effects.
//
//	client := greetv1rpc.NewGreetServiceClient(httpClient, url, rpc.WithClientInterceptors(retry.New()))
//
// # What is retried
//
// An attempt is retried only when its code is one of the retryable codes
// (UNAVAILABLE unless WithCodes says otherwise), attempts remain
// (WithMaxAttempts, 3 by default), the budget allows it, the backoff delay
// ends before the call's deadline, and repeating it is safe:
//
//   - the method is idempotent (rpc.IdempotencyIdempotent or
//     rpc.IdempotencyNoSideEffects, from the proto's idempotency_level), or
//   - the server never received the request: see [NotReceived] (the
//     connection could not be made).
//
// Streams follow stricter rules. A stream is never retried once a response
// message (or its end) has been received. Once a request message has been
// sent, it is retried only if the server never received the request; the
// messages sent so far are then sent again on the new attempt, from copies
// the interceptor keeps (proto messages only, up to WithStreamBuffer bytes;
// beyond that the stream is no longer retried). An idempotent stream that
// fails before any message was sent either way is retried.
//
// # Backoff, budget, deadline
//
// The n-th retry waits a random time between 0 and min(max, initial·2ⁿ⁻¹)
// (WithBackoff; 100ms and 5s by default): exponential backoff with full
// jitter, so clients that failed together do not retry together. A server
// can ask for another delay, or for no retry at all, with gRPC's
// grpc-retry-pushback-ms trailer (a delay in milliseconds; a negative or
// malformed value means do not retry).
//
// A [Budget] is shared by all calls through the interceptor: every failure
// with a retryable code costs a token, every success gives back a fraction of
// one, and retries go on only while more than half the tokens are left
// (they stop once half or fewer remain, as a test pins) — the
// scheme of gRPC's retry throttling, so that a struggling server is not
// hammered by retries. Pass one Budget to several interceptors to share it.
//
// A retry never waits past the call's deadline: if the delay would end after
// it, the last error is returned at once. Canceling the context stops the
// wait and returns CANCELED.
//
// # Attempts
//
// Each attempt starts from the caller's request headers as they were when
// the call began: headers that interceptors after this one set during an
// attempt do not carry over into the next. The first attempt runs with the
// caller's call info (so it costs nothing when it succeeds); later ones get
// call infos of their own and carry their number in the Polyconnect-Attempt
// request header ([AttemptHeader]: "2" for the first retry). When the call ends, the response headers and trailers of the last
// attempt are in the caller's call info. Put interceptors that must run once
// per attempt (credentials, per-attempt logging or tracing) after this one in
// the list, and those that must run once per call before it.
//
// # Hooks and per-call options
//
// WithRetryable replaces the retried codes with a function of the error;
// WithOnRetry calls a hook before each retry (to log or count them).
// ContextWithOptions changes the options for the calls made with a
// context: more attempts for one call, none for another.
//
// # Hedging
//
// With WithHedging(delay), a unary call to a method with no side effects
// (rpc.IdempotencyNoSideEffects) is sent again, while the first attempt is
// still running, each time delay passes without an answer, up to
// WithMaxAttempts attempts at once; a retryable failure sends the next one at
// once. The first success (or non-retryable error) wins; the other attempts
// are canceled. Hedged attempts count against the budget like retries. Other
// calls are retried as above.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"polyconnect.dev/protocol/rpc"
)

// AttemptHeader is the request header that carries the attempt number on
// retries and hedged attempts: "2" for the second attempt, and so on. The
// first attempt does not carry it.
const AttemptHeader = "Polyconnect-Attempt"

// pushbackTrailer is gRPC's server pushback: a delay in milliseconds before
// the next attempt, or a negative value to stop retrying.
const pushbackTrailer = "Grpc-Retry-Pushback-Ms"

// Defaults.
const (
	DefaultMaxAttempts    = 3
	DefaultInitialBackoff = 100 * time.Millisecond
	DefaultMaxBackoff     = 5 * time.Second
	DefaultStreamBuffer   = 64 << 10
)

// Option configures the interceptor.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	maxAttempts    int
	codes          map[rpc.Code]bool
	initialBackoff time.Duration
	maxBackoff     time.Duration
	budget         *Budget
	hedgeDelay     time.Duration
	streamBuffer   int
	retryable      func(error) bool // WithRetryable; nil: codes decide
	onRetry        RetryHook

	// Test hooks: the clock, the wait, and the jitter.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64
}

// WithMaxAttempts sets the number of attempts, the first included (3 by
// default). 1 disables retries.
func WithMaxAttempts(n int) Option {
	return optionFunc(func(c *config) { c.maxAttempts = max(n, 1) })
}

// WithCodes sets the codes that are retried (UNAVAILABLE by default).
func WithCodes(codes ...rpc.Code) Option {
	return optionFunc(func(c *config) {
		c.codes = make(map[rpc.Code]bool, len(codes))
		for _, code := range codes {
			c.codes[code] = true
		}
	})
}

// WithBackoff sets the backoff: the n-th retry waits a random time up to
// min(maxDelay, initial·2ⁿ⁻¹). The defaults are 100ms and 5s.
func WithBackoff(initial, maxDelay time.Duration) Option {
	return optionFunc(func(c *config) {
		c.initialBackoff = max(initial, 0)
		c.maxBackoff = max(maxDelay, c.initialBackoff)
	})
}

// WithBudget sets the retry budget. By default each interceptor has its own
// NewBudget(DefaultBudgetTokens, DefaultBudgetRatio); nil removes the budget.
func WithBudget(b *Budget) Option {
	return optionFunc(func(c *config) { c.budget = b })
}

// WithHedging hedges unary calls to methods without side effects: another
// attempt starts each time delay passes without an answer.
func WithHedging(delay time.Duration) Option {
	return optionFunc(func(c *config) { c.hedgeDelay = max(delay, 1) })
}

// WithStreamBuffer bounds the bytes of request messages a stream keeps, for
// sending again if the server never received them (64 KiB by default); 0
// keeps none, so a stream is not retried once it has sent a message.
func WithStreamBuffer(n int) Option {
	return optionFunc(func(c *config) { c.streamBuffer = max(n, 0) })
}

// New returns a client interceptor that retries calls as the package doc
// describes.
func New(opts ...Option) rpc.ClientInterceptor {
	c := &config{
		maxAttempts:    DefaultMaxAttempts,
		codes:          map[rpc.Code]bool{rpc.CodeUnavailable: true},
		initialBackoff: DefaultInitialBackoff,
		maxBackoff:     DefaultMaxBackoff,
		budget:         NewBudget(DefaultBudgetTokens, DefaultBudgetRatio),
		streamBuffer:   DefaultStreamBuffer,
		now:            time.Now,
		sleep:          sleep,
		jitter:         rand.Float64,
	}
	for _, o := range opts {
		o.apply(c)
	}
	return &interceptor{cfg: c}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type interceptor struct{ cfg *config }

// NotReceived reports whether err shows that the server never received the
// request, so that repeating it cannot repeat its effects: the error was
// produced locally (not received from the server) by a failure to connect —
// a dial error (connection refused, no route, a TLS handshake that never
// began) or a failed name lookup. Errors on a connection that was made are
// not counted, even if the request may not have been written: the client
// cannot tell.
func NotReceived(err error) bool {
	var rerr *rpc.Error
	if errors.As(err, &rerr) && rerr.IsWireError() {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func idempotent(spec rpc.Spec) bool {
	return spec.IdempotencyLevel == rpc.IdempotencyIdempotent || spec.IdempotencyLevel == rpc.IdempotencyNoSideEffects
}

// backoff returns the delay before retry n (1 for the first retry), given
// the trailers of the attempt that failed; ok is false if the server asked
// not to retry.
func (c *config) backoff(n int, trailer http.Header) (time.Duration, bool) {
	if vs := trailer[pushbackTrailer]; len(vs) > 0 {
		ms, err := strconv.ParseInt(vs[0], 10, 64)
		if err != nil || ms < 0 {
			return 0, false
		}
		return time.Duration(ms) * time.Millisecond, true
	}
	ceiling := c.initialBackoff
	for i := 1; i < n; i++ {
		if ceiling > c.maxBackoff/2 {
			ceiling = c.maxBackoff
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, c.maxBackoff)
	return time.Duration(c.jitter() * float64(ceiling)), true
}

// wait sleeps d before the next attempt, unless the wait would end after
// the call's deadline. It returns nil if the next attempt may start, the
// context's error if it ended during the wait, and errDeadline if the wait
// was not started.
func (c *config) wait(ctx context.Context, d time.Duration) error {
	if deadline, ok := ctx.Deadline(); ok && !c.now().Add(d).Before(deadline) {
		return errDeadline
	}
	if d <= 0 {
		return ctx.Err()
	}
	return c.sleep(ctx, d)
}

var errDeadline = errors.New("retry: the backoff would end after the deadline")

// contextError is the RPC error of a done context: CANCELED or
// DEADLINE_EXCEEDED, with the context's error as its cause. A unary call
// returns the bare context error, which rpc converts as it leaves the chain;
// a stream's Receive needs the RPC error itself.
func contextError(ctx context.Context) error {
	err := ctx.Err()
	return rpc.NewError(rpc.CodeOf(err), err.Error()).WithCause(err)
}

// snapshot returns a copy of the caller's request headers as they are
// before the first attempt, which later attempts start from: interceptors
// after this one may change the caller's map during the first attempt. nil
// stands for no headers.
func snapshot(caller *rpc.CallInfo) http.Header {
	h := caller.RequestHeader()
	if len(h) == 0 {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		out[k] = vs
	}
	return out
}

// newAttempt returns a context with a call info of its own for attempt n of
// a call, with the caller's request headers (as snapshot took them) and the
// attempt number after the first.
func newAttempt(ctx context.Context, headers http.Header, n int) (context.Context, *rpc.CallInfo) {
	actx, info := rpc.NewClientContext(ctx)
	h := info.RequestHeader()
	for k, vs := range headers {
		h[k] = vs
	}
	if n > 1 {
		h[AttemptHeader] = []string{strconv.Itoa(n)}
	}
	return actx, info
}

// copyResponse puts the response headers and trailers of the attempt that
// ended the call into the caller's call info, if the attempt had one of its
// own (attempt is nil for a first attempt made with the caller's).
func copyResponse(caller, attempt *rpc.CallInfo) {
	if attempt == nil {
		return
	}
	replace(caller.ResponseHeader(), attempt.ResponseHeader())
	replace(caller.ResponseTrailer(), attempt.ResponseTrailer())
}

func replace(dst, src http.Header) {
	clear(dst)
	for k, vs := range src {
		dst[k] = vs
	}
}

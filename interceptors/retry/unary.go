package retry

import (
	"context"
	"errors"

	"polyconnect.dev/protocol/rpc"
)

// WrapClientUnary implements rpc.ClientInterceptor.
func (i *interceptor) WrapClientUnary(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	if i.cfg.maxAttempts <= 1 {
		return next
	}
	noSideEffects := spec.IdempotencyLevel == rpc.IdempotencyNoSideEffects
	return func(ctx context.Context, req any) (any, error) {
		caller, ok := rpc.ClientCallInfo(ctx)
		if !ok {
			return next(ctx, req)
		}
		c := i.callConfig(ctx)
		if c.maxAttempts <= 1 {
			return next(ctx, req)
		}
		if c.hedgeDelay > 0 && noSideEffects {
			return hedge(ctx, c, caller, req, next)
		}
		return retryUnary(ctx, c, spec, caller, req, next)
	}
}

// retryUnary runs the attempts of a unary call one after the other.
func retryUnary(ctx context.Context, c *config, spec rpc.Spec, caller *rpc.CallInfo, req any, next rpc.ClientUnaryFunc) (any, error) {
	safe := idempotent(spec)
	headers := snapshot(caller)
	for n := 1; ; n++ {
		// The first attempt runs with the caller's call info, which then
		// receives its response directly; later ones have their own.
		actx, info := ctx, (*rpc.CallInfo)(nil)
		if n > 1 {
			actx, info = newAttempt(ctx, headers, n)
		}
		res, err := next(actx, req)
		if err == nil {
			c.budget.success()
			copyResponse(caller, info)
			return res, nil
		}
		if !c.retryableErr(err) {
			copyResponse(caller, info)
			return nil, err
		}
		c.budget.failure()
		if n >= c.maxAttempts || !(safe || NotReceived(err)) || !c.budget.allow() || ctx.Err() != nil {
			copyResponse(caller, info)
			return nil, err
		}
		trailer := caller.ResponseTrailer()
		if info != nil {
			trailer = info.ResponseTrailer()
		}
		delay, ok := c.backoff(n, trailer)
		if !ok {
			copyResponse(caller, info)
			return nil, err
		}
		c.retrying(ctx, n+1, err, delay)
		if werr := c.wait(ctx, delay); werr != nil {
			copyResponse(caller, info)
			if errors.Is(werr, errDeadline) {
				return nil, err
			}
			return nil, ctx.Err()
		}
	}
}

// hedge runs the attempts of a unary call without side effects side by
// side: a new one each time the hedging delay passes without an answer, or
// at once after a retryable failure.
func hedge(ctx context.Context, c *config, caller *rpc.CallInfo, req any, next rpc.ClientUnaryFunc) (any, error) {
	type result struct {
		res  any
		err  error
		info *rpc.CallInfo
	}
	results := make(chan result, c.maxAttempts)
	cancels := make([]context.CancelFunc, 0, c.maxAttempts)
	headers := snapshot(caller)
	launch := func() {
		// Attempts run side by side: each has a call info of its own.
		actx, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
		actx, info := newAttempt(actx, headers, len(cancels))
		go func() {
			res, err := next(actx, req)
			results <- result{res, err, info}
		}()
	}
	// The hedging timer: a goroutine that waits the delay and ticks,
	// restarted after each launch.
	tick := make(chan struct{}, 1)
	stopTimer := func() {}
	startTimer := func() {
		stopTimer()
		if len(cancels) >= c.maxAttempts {
			return
		}
		tctx, cancel := context.WithCancel(ctx)
		stopTimer = cancel
		go func() {
			if c.sleep(tctx, c.hedgeDelay) == nil {
				select {
				case tick <- struct{}{}:
				default:
				}
			}
		}()
	}

	launch()
	startTimer()
	pending := 1
	var final result
	done := false
	for !done {
		select {
		case r := <-results:
			pending--
			final = r
			if r.err == nil {
				c.budget.success()
				done = true
				break
			}
			if !c.retryableErr(r.err) {
				done = true
				break
			}
			c.budget.failure()
			if len(cancels) < c.maxAttempts && c.budget.allow() && ctx.Err() == nil {
				if _, ok := c.backoff(1, r.info.ResponseTrailer()); ok {
					c.retrying(ctx, len(cancels)+1, r.err, 0)
					launch()
					pending++
					startTimer()
					break
				}
			}
			done = pending == 0
		case <-tick:
			if len(cancels) < c.maxAttempts && c.budget.allow() {
				launch()
				pending++
			}
			startTimer()
		case <-ctx.Done():
			final = result{err: ctx.Err()}
			done = true
		}
	}
	stopTimer()
	for _, cancel := range cancels {
		cancel()
	}
	// Wait for the attempts still running: they read req, which the caller
	// owns again once the call returns.
	for ; pending > 0; pending-- {
		<-results
	}
	if final.info != nil {
		copyResponse(caller, final.info)
	}
	return final.res, final.err
}

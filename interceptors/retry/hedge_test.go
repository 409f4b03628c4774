package retry_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
)

// A hedged call whose first attempt hangs is answered by the second, sent
// when the hedging delay passes; the first is canceled.
func TestHedging(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			firstStarted := make(chan struct{})
			firstCanceled := make(chan struct{})
			h := testsvc.Handlers{Unary: func(ctx context.Context, req *testsvc.Msg) (*testsvc.Msg, error) {
				info, _ := rpc.HandlerCallInfo(ctx)
				n := info.RequestHeader().Get(retry.AttemptHeader)
				if n == "" {
					close(firstStarted)
					<-ctx.Done()
					close(firstCanceled)
					return nil, ctx.Err()
				}
				info.ResponseHeader().Set("X-Attempt", n)
				return wrapperspb.String("hedge " + n), nil
			}}
			ft := newFakeTime()
			ft.block = make(chan struct{})
			_, clients := testsvc.Start(t, testsvc.NewMux(h, rpc.IdempotencyNoSideEffects), v, rpc.IdempotencyNoSideEffects,
				rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithHedging(time.Second))))
			go func() {
				// The hedging delay passes once the first attempt is in.
				<-firstStarted
				ft.block <- struct{}{}
			}()
			ctx, info := rpc.NewClientContext(context.Background())
			out, err := testsvc.CallUnary(ctx, clients, "x")
			if err != nil || !slices.Equal(out, []string{"hedge 2"}) {
				t.Fatalf("%v %v", out, err)
			}
			if got := info.ResponseHeader().Get("X-Attempt"); got != "2" {
				t.Errorf("caller's response header from attempt %q, want the winner's", got)
			}
			<-firstCanceled // the loser was canceled (else this blocks until the test times out)
			if got := ft.Sleeps(); len(got) < 1 || got[0] != time.Second {
				t.Errorf("hedging timer waits %v, want 1s first", got)
			}
		})
	}
}

// Retryable failures of hedged attempts send the next one at once; the
// last one's error ends the call.
func TestHedgingAllFail(t *testing.T) {
	ft := newFakeTime()
	ft.block = make(chan struct{}) // the hedging delay never passes
	srv := &flakyServer{failures: 100, code: rpc.CodeUnavailable}
	clients := start(t, srv, testsvc.Variants[2], rpc.IdempotencyNoSideEffects, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithHedging(time.Second), retry.WithBudget(nil))))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Fatalf("got %v", err)
	}
	got := srv.Attempts()
	slices.Sort(got)
	if !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("attempts %v, want three", got)
	}
	// A non-retryable error wins at once.
	srv = &flakyServer{failures: 1, code: rpc.CodeNotFound}
	clients = start(t, srv, testsvc.Variants[2], rpc.IdempotencyNoSideEffects, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithHedging(time.Second))))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeNotFound || len(srv.Attempts()) != 1 {
		t.Errorf("NOT_FOUND: %v after %v", err, srv.Attempts())
	}
}

// Only methods without side effects are hedged; the others are retried one
// attempt after the other.
func TestHedgingOnlyNoSideEffects(t *testing.T) {
	var mu sync.Mutex
	running, most := 0, 0
	h := testsvc.Handlers{Unary: func(ctx context.Context, req *testsvc.Msg) (*testsvc.Msg, error) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		defer func() {
			mu.Lock()
			running--
			mu.Unlock()
		}()
		info, _ := rpc.HandlerCallInfo(ctx)
		if info.RequestHeader().Get(retry.AttemptHeader) == "" {
			return nil, rpc.NewError(rpc.CodeUnavailable, "first fails")
		}
		return req, nil
	}}
	ft := newFakeTime()
	_, clients := testsvc.Start(t, testsvc.NewMux(h, rpc.IdempotencyIdempotent), testsvc.Variants[1], rpc.IdempotencyIdempotent,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithHedging(time.Nanosecond))))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
		t.Fatal(err)
	}
	if most != 1 {
		t.Errorf("%d attempts ran at once on an idempotent (not side-effect free) method", most)
	}
	if got := ft.Sleeps(); !slices.Equal(got, []time.Duration{50 * time.Millisecond}) {
		t.Errorf("slept %v, want one backoff", got)
	}
}

// Canceling a hedged call cancels every attempt.
func TestHedgingCancel(t *testing.T) {
	started := make(chan struct{}, 3)
	h := testsvc.Handlers{Unary: func(ctx context.Context, req *testsvc.Msg) (*testsvc.Msg, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	ft := newFakeTime() // the hedging delay passes at once: three attempts
	_, clients := testsvc.Start(t, testsvc.NewMux(h, rpc.IdempotencyNoSideEffects), testsvc.Variants[2], rpc.IdempotencyNoSideEffects,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithHedging(time.Second))))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range 3 {
			<-started
		}
		cancel()
	}()
	if _, err := testsvc.CallUnary(ctx, clients, "x"); rpc.CodeOf(err) != rpc.CodeCanceled {
		t.Fatalf("got %v, want CANCELED", err)
	}
}

package ratelimit_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/ratelimit"
	"polyconnect.dev/protocol/rpc"
)

// clock is a manual clock for the buckets.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestTokenBucket(t *testing.T) {
	clk := newClock()
	b := ratelimit.NewTokenBucket(2, 3, ratelimit.WithClock(clk.Now))
	ctx := context.Background()
	allowed := func(key string, n int) int {
		got := 0
		for range n {
			if b.Allow(ctx, key) {
				got++
			}
		}
		return got
	}
	if got := allowed("a", 5); got != 3 {
		t.Fatalf("burst: %d allowed, want 3", got)
	}
	if got := allowed("b", 5); got != 3 {
		t.Fatalf("keys are independent: %d allowed for b, want 3", got)
	}
	clk.Advance(500 * time.Millisecond) // one token at 2 a second
	if got := allowed("a", 5); got != 1 {
		t.Fatalf("after 0.5s: %d allowed, want 1", got)
	}
	clk.Advance(250 * time.Millisecond) // half a token
	if got := allowed("a", 1); got != 0 {
		t.Fatalf("half a token allowed a call")
	}
	clk.Advance(250 * time.Millisecond) // the other half
	if got := allowed("a", 2); got != 1 {
		t.Fatalf("two halves: %d allowed, want 1", got)
	}
	clk.Advance(time.Hour) // refills to the burst, not beyond
	if got := allowed("a", 10); got != 3 {
		t.Fatalf("after an hour: %d allowed, want the burst of 3", got)
	}
	clk.Advance(-time.Minute) // a clock going back takes nothing and gives nothing
	if got := allowed("a", 1); got != 0 {
		t.Fatalf("a clock going back refilled the bucket")
	}
}

func TestTokenBucketZeroRate(t *testing.T) {
	b := ratelimit.NewTokenBucket(0, 0)
	if !b.Allow(context.Background(), "k") || b.Allow(context.Background(), "k") {
		t.Fatal("rate 0, burst 0 (=1) should allow exactly one call")
	}
}

// The number of keys stays bounded; the least recently used key goes first.
func TestTokenBucketEvictsLeastRecentlyUsed(t *testing.T) {
	clk := newClock()
	b := ratelimit.NewTokenBucket(0, 1, ratelimit.WithClock(clk.Now), ratelimit.WithMaxKeys(3))
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if !b.Allow(ctx, k) {
			t.Fatalf("first call of %s refused", k)
		}
	}
	b.Allow(ctx, "a") // refused (empty), but a is now the most recent
	if !b.Allow(ctx, "d") {
		t.Fatal("first call of d refused")
	}
	if n := b.Len(); n != 3 {
		t.Fatalf("%d keys tracked, want 3", n)
	}
	// b was the least recently used: evicted, so it starts full again; a
	// and c are still tracked, and still empty.
	if !b.Allow(ctx, "b") {
		t.Error("b was not evicted")
	}
	// Adding b evicted c, the least recent then.
	if b.Allow(ctx, "a") || b.Allow(ctx, "d") {
		t.Error("a or d lost its state")
	}
	for i := range 1000 {
		b.Allow(ctx, strconv.Itoa(i))
	}
	if n := b.Len(); n != 3 {
		t.Fatalf("%d keys tracked after 1000 new keys, want 3", n)
	}
}

func TestTokenBucketConcurrent(t *testing.T) {
	b := ratelimit.NewTokenBucket(0, 100, ratelimit.WithMaxKeys(4))
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 100 {
				if b.Allow(context.Background(), strconv.Itoa(g%2)) {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 200 {
		t.Fatalf("%d calls allowed over two keys with bursts of 100, want 200", got)
	}
}

// Handlers refuse calls beyond the limit with RESOURCE_EXHAUSTED, for every
// kind and protocol, before the handler runs.
func TestServerSide(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			clk := newClock()
			var ran atomic.Int32
			h := testsvc.Handlers{Handle: func(_ context.Context, in string) (string, error) {
				ran.Add(1)
				return in, nil
			}}
			limiter := ratelimit.NewTokenBucket(1, 2, ratelimit.WithClock(clk.Now))
			mux := testsvc.NewMux(h, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(ratelimit.New(limiter)))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown)
			for _, k := range testsvc.Kinds {
				for i := range 2 {
					if _, err := k.Call(context.Background(), clients, "x"); err != nil {
						t.Fatalf("%s call %d: %v", k.Name, i, err)
					}
				}
				before := ran.Load()
				_, err := k.Call(context.Background(), clients, "x")
				if rpc.CodeOf(err) != rpc.CodeResourceExhausted {
					t.Fatalf("%s: third call: %v, want RESOURCE_EXHAUSTED", k.Name, err)
				}
				if ran.Load() != before {
					t.Errorf("%s: the refused call reached the handler", k.Name)
				}
			}
			clk.Advance(time.Second)
			for _, k := range testsvc.Kinds {
				if _, err := k.Call(context.Background(), clients, "x"); err != nil {
					t.Errorf("%s: after a second: %v", k.Name, err)
				}
			}
		})
	}
}

// Clients throttle what they send, without reaching the network.
func TestClientSide(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			var calls testsvc.Recorder
			limiter := ratelimit.NewTokenBucket(0, 1)
			mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(&calls))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown,
				rpc.WithClientInterceptors(ratelimit.New(limiter, ratelimit.WithKey(ratelimit.Global), ratelimit.WithMessage("slow down"))))
			if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
				t.Fatal(err)
			}
			for _, k := range testsvc.Kinds {
				_, err := k.Call(context.Background(), clients, "x")
				var rerr *rpc.Error
				if rpc.CodeOf(err) != rpc.CodeResourceExhausted || !errors.As(err, &rerr) || rerr.Message() != "slow down" || rerr.IsWireError() {
					t.Errorf("%s: %v, want a local RESOURCE_EXHAUSTED", k.Name, err)
				}
			}
			if n := len(calls.Calls()); n != 1 {
				t.Errorf("the server saw %d calls, want 1", n)
			}
		})
	}
}

// ByPeer shares one limit between a client's connections (HTTP/1.1 and h2c
// here, from the same host); a key from a header separates tenants.
func TestKeys(t *testing.T) {
	byPeer := ratelimit.NewTokenBucket(0, 2)
	byTenant := ratelimit.NewTokenBucket(0, 1)
	tenant := func(_ context.Context, info *rpc.CallInfo) string { return info.RequestHeader().Get("Tenant") }
	mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(
		ratelimit.New(byTenant, ratelimit.WithKey(tenant)),
		ratelimit.New(byPeer, ratelimit.WithKey(ratelimit.ByPeer)),
	))
	srv, h1 := testsvc.Start(t, mux, testsvc.Variants[0], rpc.IdempotencyUnknown)
	h2 := testsvc.NewClients(srv.HTTP2Client(), srv.URL(), testsvc.Variants[1], rpc.IdempotencyUnknown)
	call := func(c testsvc.Clients, tenant string) error {
		ctx, info := rpc.NewClientContext(context.Background())
		info.RequestHeader().Set("Tenant", tenant)
		_, err := testsvc.CallUnary(ctx, c, "x")
		return err
	}
	if err := call(h1, "t1"); err != nil {
		t.Fatal(err)
	}
	if err := call(h1, "t1"); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatalf("second call of tenant t1: %v", err)
	}
	if err := call(h2, "t2"); err != nil {
		t.Fatalf("tenant t2 over h2c: %v", err)
	}
	if err := call(h2, "t3"); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatalf("the peer's third call, on its other connection: %v", err)
	}
	if n := byPeer.Len(); n != 1 {
		t.Errorf("%d peer keys, want 1 for one client host", n)
	}
}

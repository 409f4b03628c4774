package retry_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
)

// An idempotent unary call is retried on UNAVAILABLE until it succeeds; each
// attempt after the first carries its number; the caller's call info ends
// with the last attempt's response and keeps its own request headers.
func TestUnaryIdempotent(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			ft := newFakeTime()
			srv := &flakyServer{failures: 2, code: rpc.CodeUnavailable}
			// inner adds a header on each attempt: it must not pile up.
			inner := rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
				return func(ctx context.Context, req any) (any, error) {
					info, _ := rpc.ClientCallInfo(ctx)
					info.RequestHeader().Add("X-Inner", "x")
					return next(ctx, req)
				}
			})
			clients := start(t, srv, v, rpc.IdempotencyIdempotent, nil, rpc.WithClientInterceptors(retry.New(ft.option()), inner))
			ctx, info := rpc.NewClientContext(context.Background())
			info.RequestHeader().Set("X-Caller", "me")
			out, err := testsvc.CallUnary(ctx, clients, "hi")
			if err != nil || !slices.Equal(out, []string{"hi"}) {
				t.Fatalf("%v %v", out, err)
			}
			if got := srv.Attempts(); !slices.Equal(got, []string{"1", "2", "3"}) {
				t.Errorf("attempts %v", got)
			}
			if got := info.ResponseHeader().Get("X-Attempt"); got != "3" {
				t.Errorf("caller's response header X-Attempt = %q, want the last attempt's", got)
			}
			if got := info.ResponseHeader().Get("X-Inner"); got != "x" {
				t.Errorf("the last attempt carried X-Inner %q: headers leak between attempts", got)
			}
			if got := info.ResponseTrailer().Get("X-Trailer"); got != "ok 3" {
				t.Errorf("caller's trailer = %q", got)
			}
			// The first attempt runs on the caller's call info, so inner's
			// header is there, as it would be without retries; nothing of
			// the later attempts or of the protocols is.
			for k := range info.RequestHeader() {
				if k != "X-Caller" && k != "X-Inner" {
					t.Errorf("the caller's request headers gained %s: %v", k, info.RequestHeader())
				}
			}
			if got := ft.Sleeps(); !slices.Equal(got, []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}) {
				t.Errorf("backoff %v, want half of 100ms then of 200ms (jitter 0.5)", got)
			}
		})
	}
}

// A call to a method that may have side effects is not retried once the
// server may have received it, but is when the connection failed.
func TestUnaryNotIdempotent(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			ft := newFakeTime()
			srv := &flakyServer{failures: 1, code: rpc.CodeUnavailable}
			clients := start(t, srv, v, rpc.IdempotencyUnknown, nil, rpc.WithClientInterceptors(retry.New(ft.option())))
			if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeUnavailable {
				t.Fatalf("got %v, want the UNAVAILABLE of the only attempt", err)
			}
			if got := srv.Attempts(); len(got) != 1 {
				t.Errorf("attempts %v, want 1", got)
			}

			srv = &flakyServer{}
			var down *unreachable
			clients = start(t, srv, v, rpc.IdempotencyUnknown, func(hc rpc.HTTPClient) rpc.HTTPClient {
				down = &unreachable{inner: hc}
				down.failures.Store(2)
				return down
			}, rpc.WithClientInterceptors(retry.New(ft.option())))
			out, err := testsvc.CallUnary(context.Background(), clients, "x")
			if err != nil || !slices.Equal(out, []string{"x"}) {
				t.Fatalf("after two failed connections: %v %v", out, err)
			}
			if got := srv.Attempts(); !slices.Equal(got, []string{"3"}) {
				t.Errorf("server saw attempts %v, want only the third", got)
			}
		})
	}
}

func TestNotReceived(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}
	read := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("reset")}
	tests := []struct {
		err  error
		want bool
	}{
		{rpc.WrapError(rpc.CodeUnavailable, dial), true},
		{rpc.WrapError(rpc.CodeUnavailable, &net.DNSError{Err: "no such host", Name: "x"}), true},
		{rpc.WrapError(rpc.CodeUnavailable, read), false},
		{rpc.NewError(rpc.CodeUnavailable, "from the server"), false},
		{errors.New("plain"), false},
	}
	for _, tt := range tests {
		if got := retry.NotReceived(tt.err); got != tt.want {
			t.Errorf("NotReceived(%v) = %v", tt.err, got)
		}
	}
}

// Only the configured codes are retried.
func TestCodes(t *testing.T) {
	v := testsvc.Variants[1]
	ft := newFakeTime()
	srv := &flakyServer{failures: 1, code: rpc.CodeInternal}
	clients := start(t, srv, v, rpc.IdempotencyIdempotent, nil, rpc.WithClientInterceptors(retry.New(ft.option())))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeInternal || len(srv.Attempts()) != 1 {
		t.Fatalf("INTERNAL: %v after %v", err, srv.Attempts())
	}
	srv = &flakyServer{failures: 1, code: rpc.CodeAborted}
	clients = start(t, srv, v, rpc.IdempotencyIdempotent, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithCodes(rpc.CodeAborted))))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil || len(srv.Attempts()) != 2 {
		t.Fatalf("ABORTED with WithCodes(ABORTED): %v after %v", err, srv.Attempts())
	}
}

// After the last attempt, its error is returned.
func TestMaxAttempts(t *testing.T) {
	ft := newFakeTime()
	srv := &flakyServer{failures: 100, code: rpc.CodeUnavailable}
	clients := start(t, srv, testsvc.Variants[2], rpc.IdempotencyIdempotent, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithMaxAttempts(4), retry.WithBackoff(100*time.Millisecond, 150*time.Millisecond), retry.WithBudget(nil))))
	ctx, info := rpc.NewClientContext(context.Background())
	_, err := testsvc.CallUnary(ctx, clients, "x")
	var rerr *rpc.Error
	if !errors.As(err, &rerr) || rerr.Message() != "attempt 4 failed" {
		t.Fatalf("got %v, want the fourth attempt's error", err)
	}
	if got := info.ResponseTrailer().Get("X-Trailer"); got != "failed 4" {
		t.Errorf("caller's trailer %q, want the last attempt's", got)
	}
	want := []time.Duration{50 * time.Millisecond, 75 * time.Millisecond, 75 * time.Millisecond}
	if got := ft.Sleeps(); !slices.Equal(got, want) {
		t.Errorf("backoff %v, want %v (capped at 150ms, jitter 0.5)", got, want)
	}
}

// The budget stops retries after repeated failures and recovers with
// successes.
func TestBudget(t *testing.T) {
	ft := newFakeTime()
	budget := retry.NewBudget(4, 0.5)
	srv := &flakyServer{failures: 3, code: rpc.CodeUnavailable}
	clients := start(t, srv, testsvc.Variants[1], rpc.IdempotencyIdempotent, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithMaxAttempts(10), retry.WithBudget(budget))))
	// 4 tokens, retries while more than 2: the first call fails twice (4→3,
	// retry; 3→2, stop), the second once (2→1, stop).
	for i, want := range []int{2, 3} {
		if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := len(srv.Attempts()); got != want {
			t.Fatalf("after call %d: %d attempts, want %d", i, got, want)
		}
	}
	if got := budget.Tokens(); got != 1 {
		t.Fatalf("tokens %v, want 1", got)
	}
	// Five successes bring 2.5 tokens back (3.5): the next failure leaves
	// 2.5 > 2, so it is retried.
	for range 5 {
		if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
			t.Fatal(err)
		}
	}
	srv.mu.Lock()
	srv.failures = 1
	srv.mu.Unlock()
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
		t.Fatalf("with the budget refilled: %v", err)
	}
}

// A server's pushback trailer sets the delay, or stops the retries.
func TestPushback(t *testing.T) {
	ft := newFakeTime()
	srv := &flakyServer{failures: 1, code: rpc.CodeUnavailable, pushback: "250"}
	clients := start(t, srv, testsvc.Variants[2], rpc.IdempotencyIdempotent, nil, rpc.WithClientInterceptors(retry.New(ft.option())))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
		t.Fatal(err)
	}
	if got := ft.Sleeps(); !slices.Equal(got, []time.Duration{250 * time.Millisecond}) {
		t.Errorf("slept %v, want the server's 250ms", got)
	}
	srv = &flakyServer{failures: 1, code: rpc.CodeUnavailable, pushback: "-1"}
	clients = start(t, srv, testsvc.Variants[2], rpc.IdempotencyIdempotent, nil, rpc.WithClientInterceptors(retry.New(ft.option())))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeUnavailable || len(srv.Attempts()) != 1 {
		t.Errorf("negative pushback: %v after %v attempts", err, srv.Attempts())
	}
}

// A backoff that would end after the deadline is not waited: the last error
// comes back at once.
func TestDeadline(t *testing.T) {
	ft := newFakeTime()
	srv := &flakyServer{failures: 1, code: rpc.CodeUnavailable}
	// A two-hour backoff (one hour with the jitter) against a deadline an
	// hour away; nothing here waits for real time.
	clients := start(t, srv, testsvc.Variants[1], rpc.IdempotencyIdempotent, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithBackoff(2*time.Hour, 2*time.Hour))))
	ctx, cancel := context.WithDeadline(context.Background(), ft.Now().Add(time.Hour))
	defer cancel()
	var rerr *rpc.Error
	if _, err := testsvc.CallUnary(ctx, clients, "x"); !errors.As(err, &rerr) || rerr.Message() != "attempt 1 failed" {
		t.Fatalf("got %v, want the first attempt's error", err)
	}
	if got := ft.Sleeps(); len(got) != 0 {
		t.Errorf("slept %v past the deadline", got)
	}
}

// Canceling the call during the backoff ends it with CANCELED.
func TestCancelDuringBackoff(t *testing.T) {
	for _, k := range testsvc.Kinds {
		t.Run(k.Name, func(t *testing.T) {
			ft := newFakeTime()
			ft.block = make(chan struct{}) // never released
			ft.slept = make(chan time.Duration, 1)
			srv := &flakyServer{failures: 1, code: rpc.CodeUnavailable}
			clients := start(t, srv, testsvc.Variants[1], rpc.IdempotencyIdempotent, nil, rpc.WithClientInterceptors(retry.New(ft.option())))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				// A call that never backs off (a server stream) ends the
				// test with ctx canceled by the defer.
				select {
				case <-ft.slept:
					cancel()
				case <-ctx.Done():
				}
			}()
			if k.StreamType == rpc.StreamTypeServer {
				// A server stream has sent its request: it is not retried.
				if _, err := k.Call(ctx, clients); rpc.CodeOf(err) != rpc.CodeUnavailable {
					t.Fatalf("got %v", err)
				}
				return
			}
			if _, err := k.Call(ctx, clients); rpc.CodeOf(err) != rpc.CodeCanceled {
				t.Fatalf("got %v, want CANCELED", err)
			}
		})
	}
}

// A real refused connection counts as not received: the error from net/http
// keeps the dial error as its cause.
func TestNotReceivedRealDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: dials are refused
	for _, v := range testsvc.Variants {
		clients := testsvc.NewClients(&http.Client{}, "http://"+addr, v, rpc.IdempotencyUnknown)
		for _, k := range testsvc.Kinds {
			_, err := k.Call(context.Background(), clients, "x")
			if rpc.CodeOf(err) != rpc.CodeUnavailable || !retry.NotReceived(err) {
				t.Errorf("%s %s: %v: want UNAVAILABLE, not received", v.Name, k.Name, err)
			}
		}
	}
}

// A zero backoff retries at once, without waiting.
func TestZeroBackoff(t *testing.T) {
	ft := newFakeTime()
	srv := &flakyServer{failures: 2, code: rpc.CodeUnavailable}
	clients := start(t, srv, testsvc.Variants[1], rpc.IdempotencyIdempotent, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithBackoff(0, 0))))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
		t.Fatal(err)
	}
	if got := ft.Sleeps(); len(got) != 0 || len(srv.Attempts()) != 3 {
		t.Errorf("slept %v over %v attempts", got, srv.Attempts())
	}
}

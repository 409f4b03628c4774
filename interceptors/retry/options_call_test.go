package retry_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
)

// hookCalls records the calls of a retry hook.
type hookCalls struct {
	mu    sync.Mutex
	calls []string
}

func (h *hookCalls) hook(_ context.Context, attempt int, err error, delay time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, fmt.Sprintf("%d %s %v", attempt, rpc.CodeOf(err), delay))
}

func (h *hookCalls) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// retriedKinds are the kinds of call that a retry repeats here: unary
// calls, and client and bidi streams that have sent no message (a server
// stream has always sent its request).
var retriedKinds = []testsvc.Kind{testsvc.Kinds[0], testsvc.Kinds[2], testsvc.Kinds[3]}

// The hook is called before each retry, with the next attempt's number,
// the failure and the backoff, for unary calls and streams, and not for
// the call's last failure.
func TestOnRetry(t *testing.T) {
	for _, k := range retriedKinds {
		t.Run(k.Name, func(t *testing.T) {
			ft := newFakeTime()
			var h hookCalls
			srv := &flakyServer{failures: 2, code: rpc.CodeUnavailable}
			clients := start(t, srv, testsvc.Variants[1], rpc.IdempotencyIdempotent, nil,
				rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithOnRetry(h.hook), retry.WithBudget(nil))))
			if _, err := k.Call(context.Background(), clients); err != nil {
				t.Fatal(err)
			}
			want := []string{"2 unavailable 50ms", "3 unavailable 100ms"}
			if got := h.get(); !slices.Equal(got, want) {
				t.Errorf("hook calls %v, want %v", got, want)
			}
		})
	}
	ft := newFakeTime()
	var h hookCalls
	srv := &flakyServer{failures: 5, code: rpc.CodeUnavailable}
	clients := start(t, srv, testsvc.Variants[1], rpc.IdempotencyIdempotent, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithOnRetry(h.hook), retry.WithBudget(nil))))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Fatal(err)
	}
	if got := h.get(); len(got) != 2 {
		t.Errorf("%d hook calls for three attempts, want 2: %v", len(got), got)
	}
}

// A custom predicate decides what is retried, in place of the codes; the
// idempotency rule still holds.
func TestRetryable(t *testing.T) {
	ft := newFakeTime()
	onlyAborted := retry.WithRetryable(func(err error) bool { return rpc.CodeOf(err) == rpc.CodeAborted })
	srv := &flakyServer{failures: 1, code: rpc.CodeAborted}
	clients := start(t, srv, testsvc.Variants[0], rpc.IdempotencyIdempotent, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), onlyAborted)))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil || len(srv.Attempts()) != 2 {
		t.Fatalf("ABORTED: %v after %v", err, srv.Attempts())
	}
	srv = &flakyServer{failures: 1, code: rpc.CodeUnavailable}
	clients = start(t, srv, testsvc.Variants[0], rpc.IdempotencyIdempotent, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), onlyAborted)))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeUnavailable || len(srv.Attempts()) != 1 {
		t.Fatalf("UNAVAILABLE, which the predicate refuses: %v after %v", err, srv.Attempts())
	}
	// A method with side effects is not retried after the server had the
	// request, whatever the predicate says.
	srv = &flakyServer{failures: 1, code: rpc.CodeAborted}
	clients = start(t, srv, testsvc.Variants[0], rpc.IdempotencyUnknown, nil,
		rpc.WithClientInterceptors(retry.New(ft.option(), onlyAborted)))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeAborted || len(srv.Attempts()) != 1 {
		t.Fatalf("side effects: %v after %v", err, srv.Attempts())
	}
}

// Options on the context change one call: more attempts, none, another
// hook; the next call without them gets the interceptor's own.
func TestContextWithOptions(t *testing.T) {
	for _, k := range retriedKinds {
		t.Run(k.Name, func(t *testing.T) {
			ft := newFakeTime()
			srv := &flakyServer{failures: 4, code: rpc.CodeUnavailable}
			clients := start(t, srv, testsvc.Variants[1], rpc.IdempotencyIdempotent, nil,
				rpc.WithClientInterceptors(retry.New(ft.option(), retry.WithBudget(nil))))
			// Three attempts by default: all fail.
			if _, err := k.Call(context.Background(), clients); rpc.CodeOf(err) != rpc.CodeUnavailable || len(srv.Attempts()) != 3 {
				t.Fatalf("default: %v after %d attempts", err, len(srv.Attempts()))
			}
			// Five for this call, with a hook: the fifth attempt succeeds
			// (the server fails the first four of all).
			var h hookCalls
			ctx := retry.ContextWithOptions(context.Background(), retry.WithMaxAttempts(5))
			ctx = retry.ContextWithOptions(ctx, retry.WithOnRetry(h.hook))
			if _, err := k.Call(ctx, clients); err != nil || len(srv.Attempts()) != 5 {
				t.Fatalf("WithMaxAttempts(5) on the context: %v after %d attempts", err, len(srv.Attempts()))
			}
			if len(h.get()) != 1 {
				t.Errorf("hook calls %v, want one (attempt 5)", h.get())
			}
			// Fail fast for this call.
			srv.mu.Lock()
			srv.failures = 1
			srv.mu.Unlock()
			ctx = retry.ContextWithOptions(context.Background(), retry.WithMaxAttempts(1))
			if _, err := k.Call(ctx, clients); rpc.CodeOf(err) != rpc.CodeUnavailable || len(srv.Attempts()) != 6 {
				t.Fatalf("WithMaxAttempts(1) on the context: %v after %d attempts", err, len(srv.Attempts()))
			}
			if _, err := k.Call(context.Background(), clients); err != nil || len(srv.Attempts()) != 7 {
				t.Fatalf("back to the default: %v after %d attempts", err, len(srv.Attempts()))
			}
		})
	}
}

package timeout_test

import (
	"context"
	"testing"
	"time"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/timeout"
	"polyconnect.dev/protocol/rpc"
)

// remaining is a handler that answers with the time left before its
// context's deadline, or "none".
func remaining(ctx context.Context, _ string) (string, error) {
	d, ok := ctx.Deadline()
	if !ok {
		return "none", nil
	}
	return time.Until(d).String(), nil
}

// seen calls k and returns the time left that the handler saw.
func seen(t *testing.T, ctx context.Context, k testsvc.Kind, c testsvc.Clients) (time.Duration, bool) {
	t.Helper()
	out, err := k.Call(ctx, c, "x")
	if err != nil || len(out) != 1 {
		t.Fatalf("%s: %v %v", k.Name, out, err)
	}
	if out[0] == "none" {
		return 0, false
	}
	d, err := time.ParseDuration(out[0])
	if err != nil {
		t.Fatal(err)
	}
	return d, true
}

// within checks that the handler saw a deadline at most limit away and not
// much less: the bounds are loose (seconds against deadlines of minutes) so
// that a loaded machine cannot fail them.
func within(t *testing.T, what string, d time.Duration, ok bool, limit time.Duration) {
	t.Helper()
	if !ok || d > limit || d < limit-20*time.Second {
		t.Errorf("%s: handler saw deadline in %v (set %v), want at most %v and close to it", what, d, ok, limit)
	}
}

func TestClientSide(t *testing.T) {
	limits := timeout.Limits{Default: time.Minute, Max: 2 * time.Minute}
	ic := timeout.New(limits,
		timeout.ForService(testsvc.Service, timeout.Limits{Default: 3 * time.Minute, Max: 4 * time.Minute}),
		timeout.ForProcedure(testsvc.Bidi, timeout.Limits{}))
	other := timeout.New(limits)
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			mux := testsvc.NewMux(testsvc.Handlers{Handle: remaining}, rpc.IdempotencyUnknown)
			srv, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown, rpc.WithClientInterceptors(other))
			perService := testsvc.NewClients(v.HTTPClient(srv), srv.URL(), v, rpc.IdempotencyUnknown, rpc.WithClientInterceptors(ic))
			for _, k := range testsvc.Kinds {
				d, ok := seen(t, context.Background(), k, clients)
				within(t, k.Name+" default", d, ok, time.Minute)

				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				d, ok = seen(t, ctx, k, clients)
				cancel()
				within(t, k.Name+" capped", d, ok, 2*time.Minute)

				ctx, cancel = context.WithTimeout(context.Background(), 90*time.Second)
				d, ok = seen(t, ctx, k, clients)
				cancel()
				within(t, k.Name+" shorter than max, kept", d, ok, 90*time.Second)

				d, ok = seen(t, context.Background(), k, perService)
				if k.StreamType == rpc.StreamTypeBidi {
					if ok {
						t.Errorf("bidi has no limits of its own, yet the handler saw a deadline in %v", d)
					}
				} else {
					within(t, k.Name+" per service", d, ok, 3*time.Minute)
				}
			}
		})
	}
}

func TestServerSide(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			ic := timeout.New(timeout.Limits{Default: time.Minute, Max: 2 * time.Minute})
			mux := testsvc.NewMux(testsvc.Handlers{Handle: remaining}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(ic))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown)
			for _, k := range testsvc.Kinds {
				d, ok := seen(t, context.Background(), k, clients)
				within(t, k.Name+" default", d, ok, time.Minute)
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				d, ok = seen(t, ctx, k, clients)
				cancel()
				within(t, k.Name+" capped", d, ok, 2*time.Minute)
			}
		})
	}
}

// A handler that ignores its deadline and succeeds late answers
// DEADLINE_EXCEEDED.
func TestServerLateSuccess(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			// The handler waits for the deadline to pass, so the test does
			// not depend on timing: 10ms only keeps it short.
			ic := timeout.New(timeout.Limits{Max: 10 * time.Millisecond})
			h := testsvc.Handlers{Handle: func(ctx context.Context, in string) (string, error) {
				<-ctx.Done()
				return in, nil
			}}
			mux := testsvc.NewMux(h, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(ic))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown)
			for _, k := range testsvc.Kinds {
				if _, err := k.Call(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
					t.Errorf("%s: %v, want DEADLINE_EXCEEDED", k.Name, err)
				}
			}
		})
	}
}

// A client stream's deadline ends the stream: a server that never answers
// is cut off.
func TestClientStreamDeadline(t *testing.T) {
	block := testsvc.Handlers{Handle: func(ctx context.Context, in string) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}}
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			ic := timeout.New(timeout.Limits{Default: 10 * time.Millisecond})
			mux := testsvc.NewMux(block, rpc.IdempotencyUnknown)
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown, rpc.WithClientInterceptors(ic))
			for _, k := range testsvc.Kinds {
				if _, err := k.Call(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
					t.Errorf("%s: %v, want DEADLINE_EXCEEDED", k.Name, err)
				}
			}
		})
	}
}

func TestNoLimitsChangesNothing(t *testing.T) {
	ic := timeout.New(timeout.Limits{})
	mux := testsvc.NewMux(testsvc.Handlers{Handle: remaining}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(ic))
	_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown, rpc.WithClientInterceptors(ic))
	for _, k := range testsvc.Kinds {
		if d, ok := seen(t, context.Background(), k, clients); ok {
			t.Errorf("%s: deadline in %v without limits", k.Name, d)
		}
	}
}

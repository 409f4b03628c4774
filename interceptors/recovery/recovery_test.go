package recovery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/recovery"
	"polyconnect.dev/protocol/rpc"
)

// syncBuffer is a log destination for concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const secret = "the panic value is secret"

// panicking handlers: each kind panics, the streams after a first message.
func panicking() testsvc.Handlers {
	return testsvc.Handlers{
		Unary: func(context.Context, *testsvc.Msg) (*testsvc.Msg, error) { panic(secret) },
		ServerStream: func(_ context.Context, req *testsvc.Msg, s *rpc.ServerStream[testsvc.Msg]) error {
			if err := s.Send(req); err != nil {
				return err
			}
			panic(secret)
		},
		ClientStream: func(_ context.Context, s *rpc.ClientStream[testsvc.Msg]) (*testsvc.Msg, error) {
			if _, err := s.Receive(); err != nil {
				return nil, err
			}
			panic(errors.New(secret))
		},
		Bidi: func(_ context.Context, s *rpc.BidiStream[testsvc.Msg, testsvc.Msg]) error {
			msg, err := s.Receive()
			if err != nil {
				return err
			}
			if err := s.Send(msg); err != nil {
				return err
			}
			var m map[string]int
			m[secret]++ // a runtime panic: assignment to a nil map
			return nil
		},
	}
}

func checkInternal(t *testing.T, what string, err error) {
	t.Helper()
	if rpc.CodeOf(err) != rpc.CodeInternal {
		t.Fatalf("%s: got %v, want INTERNAL", what, err)
	}
	var rerr *rpc.Error
	if !errors.As(err, &rerr) || rerr.Message() != "internal error" || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "goroutine") {
		t.Fatalf("%s: the error leaks the panic: %v", what, err)
	}
}

// Every kind's panic becomes INTERNAL on every protocol, is logged with its
// stack, and the handler goes on serving.
func TestPanicBecomesInternal(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			mux := testsvc.NewMux(panicking(), rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(recovery.New(recovery.WithLogger(logger))))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown)
			for _, k := range testsvc.Kinds {
				out, err := k.Call(context.Background(), clients, "a")
				checkInternal(t, k.Name, err)
				if k.StreamType == rpc.StreamTypeServer || (k.StreamType == rpc.StreamTypeBidi) {
					if !slices.Equal(out, []string{"a"}) {
						t.Errorf("%s: the message sent before the panic was lost: %v", k.Name, out)
					}
				}
			}
			got := logs.String()
			if n := strings.Count(got, "panic in handler"); n != 4 {
				t.Errorf("logged %d panics, want 4:\n%.2000s", n, got)
			}
			for _, want := range []string{secret, "assignment to entry in nil map", "recovery_test.go:", testsvc.Bidi} {
				if !strings.Contains(got, want) {
					t.Errorf("log lacks %q:\n%.2000s", want, got)
				}
			}
		})
	}
}

// On a real server over TCP, a panicking call leaves the connection open:
// the next call succeeds on the same connection.
func TestServerKeepsServing(t *testing.T) {
	spec := rpc.Spec{Procedure: "/test.v1.TestService/Unary"}
	var calls atomic.Int32
	h := rpc.NewUnaryHandler(spec, func(_ context.Context, req *testsvc.Msg) (*testsvc.Msg, error) {
		if calls.Add(1) == 1 {
			panic(secret)
		}
		return req, nil
	}, rpc.WithHandlerInterceptors(recovery.New(recovery.WithLogger(nil))))
	srv := httptest.NewUnstartedServer(h)
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := rpc.NewClient[testsvc.Msg, testsvc.Msg](srv.Client(), srv.URL, spec)
	_, err := client.CallUnary(context.Background(), wrapperspb.String("x"))
	checkInternal(t, "first call", err)
	res, err := client.CallUnary(context.Background(), wrapperspb.String("y"))
	if err != nil || res.GetValue() != "y" {
		t.Fatalf("second call: %v %v", res, err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the calls used %d connections; the panic closed the first", n)
	}
}

// http.ErrAbortHandler is net/http's deliberate abort: it is not recovered.
func TestAbortHandlerPassesThrough(t *testing.T) {
	ic := recovery.New(recovery.WithLogger(nil))
	ctx := context.Background()
	for name, st := range map[string]rpc.StreamType{"unary": rpc.StreamTypeUnary, "stream": rpc.StreamTypeBidi} {
		call := ic.WrapHandlerCall(rpc.Spec{StreamType: st}, func(context.Context, rpc.StreamingHandlerConn) error { panic(http.ErrAbortHandler) })
		func() {
			defer func() {
				if v := recover(); v != http.ErrAbortHandler {
					t.Errorf("%s: recovered %v, want http.ErrAbortHandler to pass", name, v)
				}
			}()
			_ = call(ctx, nil)
		}()
	}
}

// WithHandler chooses the error; a plain error becomes INTERNAL.
func TestWithHandler(t *testing.T) {
	var gotStack []byte
	var gotValue any
	ic := recovery.New(recovery.WithLogger(nil), recovery.WithHandler(func(_ context.Context, v any, stack []byte) error {
		gotValue, gotStack = v, stack
		if v == "busy" {
			return rpc.NewError(rpc.CodeUnavailable, "try later")
		}
		return errors.New("plain")
	}))
	for value, want := range map[string]rpc.Code{"busy": rpc.CodeUnavailable, "other": rpc.CodeInternal} {
		call := ic.WrapHandlerCall(rpc.Spec{}, func(context.Context, rpc.StreamingHandlerConn) error { panic(value) })
		err := call(context.Background(), nil)
		if rpc.CodeOf(err) != want || gotValue != value || !bytes.Contains(gotStack, []byte("recovery_test.TestWithHandler")) {
			t.Errorf("%s: err %v, value %v, stack %d bytes", value, err, gotValue, len(gotStack))
		}
	}
}

// The recovery covers the interceptors after it, in their call phase (a
// check before the request is read) as in their unary phase, and the
// interceptors before it see the call end as INTERNAL; the server goes on.
func TestPanickingInterceptorAfterIt(t *testing.T) {
	phases := map[string]rpc.HandlerInterceptor{
		"call phase": rpc.HandlerCallInterceptorFunc(func(rpc.Spec, rpc.HandlerCallFunc) rpc.HandlerCallFunc {
			return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
				if conn.RequestHeader().Get("X-Panic") != "" {
					panic("check blew up")
				}
				return nil
			}
		}),
		"unary phase": rpc.HandlerUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
			return func(ctx context.Context, req any) (any, error) { panic("unary interceptor blew up") }
		}),
	}
	for name, bad := range phases {
		t.Run(name, func(t *testing.T) {
			var logged syncBuffer
			logger := slog.New(slog.NewTextHandler(&logged, nil))
			outcome := &outcomeRecorder{}
			mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
				rpc.WithHandlerInterceptors(outcome, recovery.New(recovery.WithLogger(logger)), bad))
			_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown)
			ctx, info := rpc.NewClientContext(context.Background())
			info.RequestHeader().Set("X-Panic", "yes")
			if _, err := testsvc.CallUnary(ctx, clients, "x"); rpc.CodeOf(err) != rpc.CodeInternal {
				t.Fatalf("call: %v", err)
			}
			if got := outcome.get(); got != "internal" {
				t.Errorf("the interceptor before recovery saw %q, want internal", got)
			}
			if !strings.Contains(logged.String(), "blew up") {
				t.Errorf("panic not logged: %s", logged.String())
			}
		})
	}
}

// outcomeRecorder keeps the outcome of the last call it saw in the call
// chain.
type outcomeRecorder struct {
	rpc.HandlerCallInterceptorFunc // for its WrapHandlerUnary, which passes through
	mu                             sync.Mutex
	last                           string
}

func (o *outcomeRecorder) WrapHandlerCall(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		err := next(ctx, conn)
		o.mu.Lock()
		o.last = "ok"
		if err != nil {
			o.last = rpc.CodeOf(err).String()
		}
		o.mu.Unlock()
		return err
	}
}

func (o *outcomeRecorder) get() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

package retry_test

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// An idempotent stream that fails before any message was sent is retried;
// one that has sent a message is not (the server may have acted on it).
func TestStreamIdempotent(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			for _, k := range testsvc.Kinds[1:] {
				ft := newFakeTime()
				srv := &flakyServer{failures: 1, code: rpc.CodeUnavailable}
				clients := start(t, srv, v, rpc.IdempotencyIdempotent, nil, rpc.WithClientInterceptors(retry.New(ft.option())))
				// A server stream always sends its request; the others send
				// nothing here.
				out, err := k.Call(context.Background(), clients)
				if k.StreamType == rpc.StreamTypeServer {
					if rpc.CodeOf(err) != rpc.CodeUnavailable || len(srv.Attempts()) != 1 {
						t.Errorf("%s: %v after attempts %v, want no retry", k.Name, err, srv.Attempts())
					}
					continue
				}
				if err != nil || !slices.Equal(srv.Attempts(), []string{"1", "2"}) {
					t.Errorf("%s without messages: %v %v after attempts %v", k.Name, out, err, srv.Attempts())
				}

				srv = &flakyServer{failures: 1, code: rpc.CodeUnavailable}
				clients = start(t, srv, v, rpc.IdempotencyIdempotent, nil, rpc.WithClientInterceptors(retry.New(ft.option())))
				if _, err := k.Call(context.Background(), clients, "a", "b"); rpc.CodeOf(err) != rpc.CodeUnavailable || len(srv.Attempts()) != 1 {
					t.Errorf("%s with messages sent: %v after attempts %v, want no retry", k.Name, err, srv.Attempts())
				}
			}
		})
	}
}

// A stream whose connection failed is retried whatever the method, and the
// messages sent before the failure are sent again.
func TestStreamNotReceived(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			for _, k := range testsvc.Kinds[1:] {
				ft := newFakeTime()
				srv := &flakyServer{}
				clients := start(t, srv, v, rpc.IdempotencyUnknown, func(hc rpc.HTTPClient) rpc.HTTPClient {
					u := &unreachable{inner: hc}
					u.failures.Store(2)
					return u
				}, rpc.WithClientInterceptors(retry.New(ft.option())))
				ctx, info := rpc.NewClientContext(context.Background())
				out, err := k.Call(ctx, clients, "a", "b", "c")
				want := map[rpc.StreamType][]string{
					rpc.StreamTypeServer: {"a"},
					rpc.StreamTypeClient: {"a,b,c"},
					rpc.StreamTypeBidi:   {"a", "b", "c"},
				}[k.StreamType]
				if err != nil || !slices.Equal(out, want) {
					t.Errorf("%s: %v %v, want %v", k.Name, out, err, want)
				}
				if got := srv.Attempts(); !slices.Equal(got, []string{"3"}) {
					t.Errorf("%s: server saw attempts %v, want only the third", k.Name, got)
				}
				if got := info.ResponseTrailer().Get("X-Trailer"); got != "ok 3" {
					t.Errorf("%s: caller's trailer %q", k.Name, got)
				}
			}
		})
	}
}

// Messages beyond the replay buffer cannot be sent again: such a stream is
// not retried.
func TestStreamBufferOverflow(t *testing.T) {
	for _, k := range testsvc.Kinds[1:] {
		srv := &flakyServer{}
		clients := start(t, srv, testsvc.Variants[1], rpc.IdempotencyUnknown, func(hc rpc.HTTPClient) rpc.HTTPClient {
			u := &unreachable{inner: hc}
			u.failures.Store(1)
			return u
		}, rpc.WithClientInterceptors(retry.New(newFakeTime().option(), retry.WithStreamBuffer(8))))
		if _, err := k.Call(context.Background(), clients, "0123456789"); rpc.CodeOf(err) != rpc.CodeUnavailable || !retry.NotReceived(err) {
			t.Errorf("%s: %v, want the failed connection's error", k.Name, err)
		}
		if got := srv.Attempts(); len(got) != 0 {
			t.Errorf("%s: retried: %v", k.Name, got)
		}
	}
}

// Once a response message has arrived, a stream is never retried.
func TestStreamCommitted(t *testing.T) {
	var attempts int
	h := testsvc.Handlers{Bidi: func(ctx context.Context, st *rpc.BidiStream[testsvc.Msg, testsvc.Msg]) error {
		attempts++
		if err := st.Send(wrapperspb.String("hello")); err != nil {
			return err
		}
		return rpc.NewError(rpc.CodeUnavailable, "gone")
	}}
	for _, v := range testsvc.Variants {
		attempts = 0
		_, clients := testsvc.Start(t, testsvc.NewMux(h, rpc.IdempotencyIdempotent), v, rpc.IdempotencyIdempotent,
			rpc.WithClientInterceptors(retry.New(newFakeTime().option())))
		out, err := testsvc.CallBidi(context.Background(), clients)
		if rpc.CodeOf(err) != rpc.CodeUnavailable || !slices.Equal(out, []string{"hello"}) || attempts != 1 {
			t.Errorf("%s: %v %v after %d attempts", v.Name, out, err, attempts)
		}
	}
}

// Request headers set on the stream before its first message reach every
// attempt; the attempt number is added to retries only.
func TestStreamHeaders(t *testing.T) {
	var seen []string
	h := testsvc.Handlers{ClientStream: func(ctx context.Context, st *rpc.ClientStream[testsvc.Msg]) (*testsvc.Msg, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		seen = append(seen, info.RequestHeader().Get("X-Late")+"/"+info.RequestHeader().Get(retry.AttemptHeader))
		if len(seen) == 1 {
			return nil, rpc.NewError(rpc.CodeUnavailable, "again")
		}
		return wrapperspb.String("ok"), nil
	}}
	srv := rpctest.NewServer(t, testsvc.NewMux(h, rpc.IdempotencyIdempotent))
	clients := testsvc.NewClients(srv.HTTP2Client(), srv.URL(), testsvc.Variants[1], rpc.IdempotencyIdempotent,
		rpc.WithClientInterceptors(retry.New(newFakeTime().option())))
	st, err := clients.ClientStream.CallClientStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st.RequestHeader().Set("X-Late", "set after open")
	res, err := st.CloseAndReceive()
	if err != nil || res.GetValue() != "ok" {
		t.Fatal(res, err)
	}
	if want := []string{"set after open/", "set after open/2"}; !slices.Equal(seen, want) {
		t.Errorf("server saw %v, want %v", seen, want)
	}
	if st.RequestHeader().Get(retry.AttemptHeader) != "" {
		t.Error("the attempt header leaked into the caller's headers")
	}
}

package rpc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// A client's CallInfo makes its header and trailer maps only when asked
// for, and takes a response's headers without copying them. Neither may
// show: a map handed out before the call is the one filled in, whoever
// asked for it (an interceptor, the caller through NewClientContext).
func TestClientCallInfoMapsHandedOutEarly(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	for _, p := range allProtocols {
		t.Run(p.name, func(t *testing.T) {
			// An interceptor that holds the maps from before the call.
			var seen, seenTrailer string
			early := rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
				return func(ctx context.Context, req any) (any, error) {
					info, ok := rpc.ClientCallInfo(ctx)
					if !ok {
						return nil, errors.New("no call info in a client interceptor")
					}
					info.RequestHeader().Set("X-Echo", "from-interceptor")
					header, trailer := info.ResponseHeader(), info.ResponseTrailer()
					res, err := next(ctx, req)
					seen, seenTrailer = header.Get("X-Echo"), trailer.Get("X-Method")
					return res, err
				}
			})
			client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithProtocol(p.protocol), rpc.WithClientInterceptors(early))
			if _, err := client.CallUnary(context.Background(), wrapperspb.String("x")); err != nil {
				t.Fatal(err)
			}
			if seen != "from-interceptor" || seenTrailer != "POST" {
				t.Errorf("interceptor's maps: header X-Echo %q, trailer X-Method %q", seen, seenTrailer)
			}

			// The caller's maps, taken before and after the call.
			ctx, info := rpc.NewClientContext(context.Background())
			info.RequestHeader().Set("X-Echo", "from-caller")
			header, trailer := info.ResponseHeader(), info.ResponseTrailer()
			plain := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithProtocol(p.protocol))
			if _, err := plain.CallUnary(ctx, wrapperspb.String("x")); err != nil {
				t.Fatal(err)
			}
			if header.Get("X-Echo") != "from-caller" || trailer.Get("X-Method") != "POST" {
				t.Errorf("caller's early maps: header %v, trailer %v", header, trailer)
			}
			if got := info.ResponseHeader().Get("X-Echo"); got != "from-caller" {
				t.Errorf("ResponseHeader after the call: X-Echo %q", got)
			}

			// Without early readers, the maps read after the call hold the
			// response, and stay the same maps from then on.
			ctx, info = rpc.NewClientContext(context.Background())
			info.RequestHeader().Set("X-Echo", "late")
			if _, err := plain.CallUnary(ctx, wrapperspb.String("x")); err != nil {
				t.Fatal(err)
			}
			if info.ResponseHeader().Get("X-Echo") != "late" || info.ResponseTrailer().Get("X-Method") != "POST" {
				t.Errorf("late reads: header %v, trailer %v", info.ResponseHeader(), info.ResponseTrailer())
			}
			info.ResponseHeader().Set("X-Mine", "1")
			if info.ResponseHeader().Get("X-Mine") != "1" {
				t.Error("ResponseHeader returned another map on the second call")
			}
		})
	}
}

// The maps of a streaming call are read through its conn; a stream's
// response headers are the call info's.
func TestClientStreamMapsFromCallInfo(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	for _, p := range allProtocols {
		t.Run(p.name, func(t *testing.T) {
			ctx, info := rpc.NewClientContext(context.Background())
			stream, err := rpc.NewClient[sv, sv](h2, srv.URL, specServer, rpc.WithProtocol(p.protocol)).CallServerStream(ctx, wrapperspb.String("s"))
			if err != nil {
				t.Fatal(err)
			}
			receiveAll(t, stream, 3)
			if got := stream.ResponseTrailer().Get("X-Count"); got != "3" {
				t.Errorf("stream trailer X-Count %q", got)
			}
			if got := info.ResponseTrailer().Get("X-Count"); got != "3" {
				t.Errorf("call info trailer X-Count %q", got)
			}
			if stream.ResponseHeader().Get("Content-Type") == "" || info.ResponseHeader().Get("Content-Type") == "" {
				t.Errorf("no Content-Type in the response headers: %v", stream.ResponseHeader())
			}
		})
	}
}

// Several goroutines may read the CallInfo of a finished call, even one
// whose maps were never made (a call that failed before its response).
func TestClientCallInfoConcurrentReaders(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	ctx, info := rpc.NewClientContext(canceled)
	if _, err := rpc.NewClient[sv, sv](nil, "http://127.0.0.1:1", specUnary).CallUnary(ctx, wrapperspb.String("x")); rpc.CodeOf(err) != rpc.CodeCanceled {
		t.Fatalf("error %v", err)
	}
	var wg sync.WaitGroup
	maps := make([][3]map[string][]string, 4)
	for i := range maps {
		wg.Go(func() {
			maps[i] = [3]map[string][]string{info.RequestHeader(), info.ResponseHeader(), info.ResponseTrailer()}
		})
	}
	wg.Wait()
	for i := range maps {
		for j := range 3 {
			if maps[i][j] == nil {
				t.Fatalf("reader %d got a nil map %d", i, j)
			}
		}
	}
	info.ResponseHeader().Set("X-A", "1")
	for i := range maps {
		if maps[i][1]["X-A"] == nil {
			t.Errorf("reader %d got another response header map", i)
		}
	}
}

// The context NewClientContext returns is its parent's in everything but
// the call info: values, deadline and cancellation.
func TestNewClientContextIsItsParent(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, "v"), time.Now().Add(time.Hour))
	ctx, info := rpc.NewClientContext(parent)
	if got, ok := rpc.ClientCallInfo(ctx); !ok || got != info {
		t.Fatal("ClientCallInfo does not find the call info")
	}
	if _, ok := rpc.ClientCallInfo(parent); ok {
		t.Fatal("the parent has a call info")
	}
	if ctx.Value(key{}) != "v" {
		t.Error("the parent's value is lost")
	}
	if d1, _ := ctx.Deadline(); d1 != func() time.Time { d, _ := parent.Deadline(); return d }() {
		t.Error("the deadline differs")
	}
	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	<-ctx.Done()
	<-child.Done() // a child of the call's context ends with the parent
	if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) {
		t.Errorf("errors %v, %v", ctx.Err(), child.Err())
	}
	// A nested call info hides the outer one.
	inner, innerInfo := rpc.NewClientContext(ctx)
	if got, _ := rpc.ClientCallInfo(inner); got != innerInfo || got == info {
		t.Error("the inner call info does not hide the outer one")
	}
}

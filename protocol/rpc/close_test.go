package rpc_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// watchHandlers serves "watch" streams: one response, then nothing until
// the call is canceled. Each call names itself in X-Call; canceled reports
// the calls whose handlers saw their context end.
type watchHandlers struct {
	mu       sync.Mutex
	canceled map[string]chan struct{}
}

func (w *watchHandlers) seen(call string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.canceled == nil {
		w.canceled = make(map[string]chan struct{})
	}
	ch, ok := w.canceled[call]
	if !ok {
		ch = make(chan struct{})
		w.canceled[call] = ch
	}
	return ch
}

func (w *watchHandlers) wait(ctx context.Context) error {
	info, _ := rpc.HandlerCallInfo(ctx)
	<-ctx.Done()
	close(w.seen(info.RequestHeader().Get("X-Call")))
	return ctx.Err()
}

var (
	specWatch     = rpc.Spec{Procedure: "/test.v1.Watch/Server", StreamType: rpc.StreamTypeServer}
	specWatchBidi = rpc.Spec{Procedure: "/test.v1.Watch/Bidi", StreamType: rpc.StreamTypeBidi}
)

func (w *watchHandlers) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(specWatch.Procedure, rpc.NewServerStreamHandler(specWatch, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		_ = s.Send(req) // fails only if the call is over already
		return w.wait(ctx)
	}))
	mux.Handle(specWatchBidi.Procedure, rpc.NewBidiStreamHandler(specWatchBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		req, err := s.Receive()
		if err != nil {
			return err
		}
		if err := s.Send(req); err != nil {
			return err
		}
		// Read to the end of the requests (the client's CloseSend): over
		// HTTP/1.1, net/http watches the connection for the client going
		// away only once the request body has been read to its end.
		for _, err := range s.All() {
			if err != nil {
				break // the cancellation may arrive while reading
			}
		}
		return w.wait(ctx)
	}))
	return mux
}

// TestCloseCancelsTheCall: closing a stream before its end (Close,
// breaking out of All, CloseReceive after CloseSend) cancels the call and
// returns without waiting for the server to send anything more, and the
// handler sees the cancellation. It used to drain up to 4 KiB of response
// first, which a watch-style server never sends: Close hung.
func TestCloseCancelsTheCall(t *testing.T) {
	noLeaks(t)
	var w watchHandlers
	transports := netTransports(t, w.mux(), nil)
	var calls atomic.Int64
	closers := map[string]func(ctx context.Context, t *testing.T, tr netTransport, p rpc.Protocol) func(){
		"Close": func(ctx context.Context, t *testing.T, tr netTransport, p rpc.Protocol) func() {
			c := rpc.NewClient[sv, sv](tr.client, tr.url, specWatch, rpc.WithProtocol(p))
			s, err := c.CallServerStream(ctx, wrapperspb.String("a"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Receive(); err != nil {
				t.Fatal(err)
			}
			return func() { _ = s.Close() }
		},
		"All-break": func(ctx context.Context, t *testing.T, tr netTransport, p rpc.Protocol) func() {
			c := rpc.NewClient[sv, sv](tr.client, tr.url, specWatch, rpc.WithProtocol(p))
			s, err := c.CallServerStream(ctx, wrapperspb.String("a"))
			if err != nil {
				t.Fatal(err)
			}
			return func() {
				for _, err := range s.All() {
					if err != nil {
						t.Error(err)
					}
					break
				}
			}
		},
		"CloseReceive-after-CloseSend": func(ctx context.Context, t *testing.T, tr netTransport, p rpc.Protocol) func() {
			c := rpc.NewClient[sv, sv](tr.client, tr.url, specWatchBidi, rpc.WithProtocol(p))
			s, err := c.CallBidiStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(wrapperspb.String("a")); err != nil {
				t.Fatal(err)
			}
			if err := s.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Receive(); err != nil {
				t.Fatal(err)
			}
			return func() { _ = s.CloseReceive() }
		},
	}
	for name, open := range closers {
		t.Run(name, func(t *testing.T) {
			forEachProtocolAndTransport(t, transports, func(t *testing.T, tr netTransport, p rpc.Protocol) {
				call := strconv.FormatInt(calls.Add(1), 10)
				ctx, info := rpc.NewClientContext(context.Background())
				info.RequestHeader().Set("X-Call", call)
				closeIt := open(ctx, t, tr, p)
				closed := make(chan struct{})
				go func() {
					defer close(closed)
					closeIt()
				}()
				// Generous bounds: these are failure detectors for a hang,
				// not measures of speed.
				select {
				case <-closed:
				case <-time.After(10 * time.Second):
					t.Fatal("closing blocked on a server that sends nothing")
				}
				select {
				case <-w.seen(call):
				case <-time.After(10 * time.Second):
					t.Fatal("the handler did not see the cancellation")
				}
			})
		})
	}
}

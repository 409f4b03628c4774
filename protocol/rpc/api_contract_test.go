package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// WrapError keeps the code it is given and the whole message of the cause,
// even when the cause wraps an *Error of another code.
func TestWrapErrorKeepsItsCodeAndMessage(t *testing.T) {
	inner := rpc.NewError(rpc.CodeNotFound, "no such user")
	cause := fmt.Errorf("loading profile: %w", inner)
	err := rpc.WrapError(rpc.CodeUnavailable, cause)
	if err.Code() != rpc.CodeUnavailable || rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Errorf("code %v (CodeOf %v), want unavailable", err.Code(), rpc.CodeOf(err))
	}
	if err.Message() != cause.Error() {
		t.Errorf("message %q, want the cause's %q", err.Message(), cause.Error())
	}
	var found *rpc.Error
	if !errors.As(errors.Unwrap(err), &found) || found != inner {
		t.Errorf("the inner *Error is no longer reachable through Unwrap")
	}
	if !errors.Is(rpc.WrapError(rpc.CodeInternal, fs.ErrNotExist), fs.ErrNotExist) {
		t.Error("errors.Is does not see the cause")
	}
	if rpc.WrapError(rpc.CodeInternal, nil) != nil {
		t.Error("WrapError(nil) is not nil")
	}
}

// WithCause returns a copy whose metadata and details are its own: a
// package-level sentinel stays as it was.
func TestWithCauseDoesNotShareMetadata(t *testing.T) {
	sentinel := rpc.NewError(rpc.CodeUnavailable, "down")
	sentinel.Meta().Set("X-Origin", "sentinel")
	_ = sentinel.AddDetail(wrapperspb.String("original"))

	copied := sentinel.WithCause(io.ErrUnexpectedEOF)
	copied.Meta().Set("X-Origin", "copy")
	copied.Meta().Set("X-Extra", "1")
	_ = copied.AddDetail(wrapperspb.String("added"))

	if got := sentinel.Meta().Get("X-Origin"); got != "sentinel" {
		t.Errorf("sentinel metadata changed to %q", got)
	}
	if got := sentinel.Meta().Get("X-Extra"); got != "" {
		t.Errorf("sentinel gained metadata %q", got)
	}
	if len(sentinel.Details()) != 1 || len(copied.Details()) != 2 {
		t.Errorf("details: sentinel %d, copy %d; want 1 and 2", len(sentinel.Details()), len(copied.Details()))
	}
	if !errors.Is(copied, io.ErrUnexpectedEOF) || copied.Code() != rpc.CodeUnavailable {
		t.Errorf("copy lost its cause or code: %v", copied)
	}
}

// Breaking out of BidiStreamCall.All closes the response side, which cancels
// a call that has not ended, as ServerStreamCall.All does.
func TestBidiAllBreakClosesTheCall(t *testing.T) {
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		t.Run(p.String(), func(t *testing.T) {
			ended := make(chan error, 1)
			mux := http.NewServeMux()
			mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
				if _, err := s.Receive(); err != nil {
					ended <- err
					return err
				}
				if err := s.Send(wrapperspb.String("first")); err != nil {
					ended <- err
					return err
				}
				// Wait for more requests that never come: only the client
				// closing the call ends this.
				_, err := s.Receive()
				ended <- err
				return err
			}))
			srv, h2 := newH2CServer(t, mux)
			call, err := rpc.NewClient[sv, sv](h2, srv.URL, specBidi, rpc.WithProtocol(p)).CallBidiStream(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := call.Send(wrapperspb.String("hello")); err != nil {
				t.Fatal(err)
			}
			for msg, err := range call.All() {
				if err != nil {
					t.Fatal(err)
				}
				if msg.Value != "first" {
					t.Fatalf("got %q", msg.Value)
				}
				break
			}
			// Generous bound: a failure shows as this timeout, success
			// returns as soon as the server sees the reset.
			select {
			case err := <-ended:
				if err == nil || errors.Is(err, io.EOF) {
					t.Errorf("handler's Receive = %v, want the call's cancellation", err)
				}
			case <-time.After(20 * time.Second):
				_ = call.CloseReceive() // let the server shut down
				t.Fatal("the call stayed open after the loop broke")
			}
		})
	}
}

// The lazily created trailer map of a handler's CallInfo may be asked for by
// a bidirectional handler's two goroutines at once (run with -race).
func TestHandlerTrailerMapConcurrentFirstUse(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		info, _ := rpc.HandlerCallInfo(ctx)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range 2 {
			wg.Go(func() {
				tr := info.ResponseTrailer()
				mu.Lock()
				tr.Set(fmt.Sprintf("X-From-%d", i), "yes")
				mu.Unlock()
			})
		}
		wg.Wait()
		return nil
	}))
	srv, h2 := newH2CServer(t, mux)
	call, err := rpc.NewClient[sv, sv](h2, srv.URL, specBidi).CallBidiStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_ = call.CloseSend()
	if _, err := call.Receive(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	for i := range 2 {
		if got := call.ResponseTrailer().Get(fmt.Sprintf("X-From-%d", i)); got != "yes" {
			t.Errorf("trailer X-From-%d = %q (trailers %v)", i, got, call.ResponseTrailer())
		}
	}
}

package rpc_test

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// attemptMux serves a unary method that reports what it saw: whether the
// call had a deadline (response header X-Had-Deadline), which attempt it
// is (X-Attempt, counted by the server), and, on the first attempt only, a
// trailer X-First and an UNAVAILABLE error.
func attemptMux(calls *atomic.Int32) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		n := calls.Add(1)
		info, _ := rpc.HandlerCallInfo(ctx)
		_, hasDeadline := ctx.Deadline()
		info.ResponseHeader().Set("X-Had-Deadline", strconv.FormatBool(hasDeadline))
		info.ResponseHeader().Set("X-Attempt", strconv.Itoa(int(n)))
		info.ResponseHeader().Set("X-Caller", info.RequestHeader().Get("X-Caller"))
		if req.Value == "fail-first" && n == 1 {
			info.ResponseTrailer().Set("X-First", "yes")
			return nil, rpc.NewError(rpc.CodeUnavailable, "try again")
		}
		return wrapperspb.String(req.Value), nil
	}))
	return mux
}

// A CallInfo reused for a second call must not carry the first call's
// deadline header (Connect-Timeout-Ms, grpc-timeout) into it.
func TestReusedCallInfoDoesNotLeakDeadline(t *testing.T) {
	var calls atomic.Int32
	srv, h2 := newH2CServer(t, attemptMux(&calls))
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		t.Run(p.String(), func(t *testing.T) {
			client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithProtocol(p))
			ctx, info := rpc.NewClientContext(context.Background())
			info.RequestHeader().Set("X-Caller", "me")
			// A generous deadline: only its presence matters.
			dctx, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			if _, err := client.CallUnary(dctx, wrapperspb.String("one")); err != nil {
				t.Fatal(err)
			}
			if got := info.ResponseHeader().Get("X-Had-Deadline"); got != "true" {
				t.Fatalf("first call: server saw deadline %q, want true", got)
			}
			for k := range info.RequestHeader() {
				if k != "X-Caller" {
					t.Errorf("the call wrote %q into the caller's request headers", k)
				}
			}
			if _, err := client.CallUnary(ctx, wrapperspb.String("two")); err != nil {
				t.Fatal(err)
			}
			if got := info.ResponseHeader().Get("X-Had-Deadline"); got != "false" {
				t.Errorf("second call without a deadline: server saw deadline %q, want false", got)
			}
			if got := info.ResponseHeader().Get("X-Caller"); got != "me" {
				t.Errorf("caller's header reached the server as %q", got)
			}
		})
	}
}

// retryOnce is an interceptor that calls next a second time when the first
// attempt fails, the way a retry interceptor does, with the same context.
type retryOnce struct {
	// Its WrapClientStream passes streams through; WrapClientUnary is
	// retryOnce's own.
	rpc.ClientUnaryInterceptorFunc
	firstTrailers http.Header
}

func (r *retryOnce) WrapClientUnary(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		res, err := next(ctx, req)
		if err == nil {
			return res, nil
		}
		info, _ := rpc.ClientCallInfo(ctx)
		r.firstTrailers = info.ResponseTrailer()
		// The second attempt runs without the first one's deadline.
		return next(context.WithoutCancel(ctx), req)
	}
}

// Each attempt through the interceptor chain starts from the caller's
// request headers and reports only its own response headers and trailers.
func TestEachAttemptHasItsOwnResponse(t *testing.T) {
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		t.Run(p.String(), func(t *testing.T) {
			var calls atomic.Int32
			srv, h2 := newH2CServer(t, attemptMux(&calls))
			retry := &retryOnce{}
			client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithProtocol(p), rpc.WithClientInterceptors(retry))
			ctx, info := rpc.NewClientContext(context.Background())
			info.RequestHeader().Set("X-Caller", "me")
			dctx, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			res, err := client.CallUnary(dctx, wrapperspb.String("fail-first"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Value != "fail-first" || calls.Load() != 2 {
				t.Fatalf("got %q after %d attempts", res.Value, calls.Load())
			}
			if got := info.ResponseHeader().Values("X-Attempt"); len(got) != 1 || got[0] != "2" {
				t.Errorf("response header X-Attempt = %q, want only the second attempt's", got)
			}
			if got := info.ResponseTrailer().Get("X-First"); got != "" {
				t.Errorf("the first attempt's trailer X-First = %q leaked into the second attempt's trailers", got)
			}
			if got := retry.firstTrailers.Get("X-First"); got != "yes" {
				t.Errorf("the first attempt's own trailers lost X-First (%v)", retry.firstTrailers)
			}
			if got := info.ResponseHeader().Get("X-Had-Deadline"); got != "false" {
				t.Errorf("second attempt without a deadline: server saw deadline %q", got)
			}
			if got := info.ResponseHeader().Get("X-Caller"); got != "me" {
				t.Errorf("second attempt sent X-Caller %q, want the caller's", got)
			}
		})
	}
}

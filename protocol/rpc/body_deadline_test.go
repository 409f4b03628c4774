package rpc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

var (
	specHeldClient = rpc.Spec{Procedure: "/test.v1.Held/Client", StreamType: rpc.StreamTypeClient}
	specHeldBidi   = rpc.Spec{Procedure: "/test.v1.Held/Bidi", StreamType: rpc.StreamTypeBidi}
	specHeldUnary  = rpc.Spec{Procedure: "/test.v1.Held/Unary", StreamType: rpc.StreamTypeUnary}
)

// TestTimeoutBoundsRequestReads: a handler blocked reading a request that
// the client neither finishes nor cancels gets DEADLINE_EXCEEDED at the
// call's timeout, for Connect-Timeout-Ms as for grpc-timeout, unary and
// streams, over HTTP/1.1, h2c and h2. Connect handlers used to stay blocked
// past their deadline.
func TestTimeoutBoundsRequestReads(t *testing.T) {
	noLeaks(t)
	var results sendResults
	report := func(ctx context.Context, err error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		results.ch(info.RequestHeader().Get("X-Call")) <- err
	}
	mux := http.NewServeMux()
	mux.Handle(specHeldClient.Procedure, rpc.NewClientStreamHandler(specHeldClient, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		for {
			if _, err := s.Receive(); err != nil {
				report(ctx, err)
				return nil, err
			}
		}
	}))
	mux.Handle(specHeldBidi.Procedure, rpc.NewBidiStreamHandler(specHeldBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		for {
			if _, err := s.Receive(); err != nil {
				report(ctx, err)
				return err
			}
		}
	}))
	mux.Handle(specHeldUnary.Procedure, rpc.NewUnaryHandler(specHeldUnary, func(ctx context.Context, req *sv) (*sv, error) {
		return req, nil
	}))
	transports := netTransports(t, mux, nil)
	var calls atomic.Int64
	setTimeout := func(h http.Header, p rpc.Protocol) {
		// The server's deadline only: the client's context has none.
		if p == rpc.ProtocolConnect {
			h.Set("Connect-Timeout-Ms", "300")
		} else {
			h.Set("Grpc-Timeout", "300m")
		}
	}
	for _, spec := range []rpc.Spec{specHeldClient, specHeldBidi} {
		t.Run(spec.StreamType.String(), func(t *testing.T) {
			forEachProtocolAndTransport(t, transports, func(t *testing.T, tr netTransport, p rpc.Protocol) {
				call := strconv.FormatInt(calls.Add(1), 10)
				ctx, info := rpc.NewClientContext(context.Background())
				info.RequestHeader().Set("X-Call", call)
				setTimeout(info.RequestHeader(), p)
				conn, err := rpc.NewClient[sv, sv](tr.client, tr.url, spec, rpc.WithProtocol(p)).CallBidiStream(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.CloseReceive()
				if err := conn.Send(wrapperspb.String("one")); err != nil {
					t.Fatal(err)
				}
				// No more requests, no end of them, no cancellation.
				select {
				case err := <-results.ch(call):
					if rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
						t.Fatalf("Receive ended with %v, want deadline_exceeded", err)
					}
				case <-time.After(20 * time.Second): // a hang detector, not a speed bound
					t.Fatal("Receive is still blocked")
				}
			})
		})
	}
	// A unary request whose body stops half way: only the answer shows
	// that the handler gave up.
	t.Run("unary", func(t *testing.T) {
		for _, tr := range transports {
			t.Run("connect/"+tr.name, func(t *testing.T) {
				pr, pw := io.Pipe()
				defer pw.Close()
				req, _ := http.NewRequest(http.MethodPost, tr.url+specHeldUnary.Procedure, pr)
				req.Header.Set("Content-Type", "application/proto")
				req.Header.Set("Connect-Protocol-Version", "1")
				setTimeout(req.Header, rpc.ProtocolConnect)
				req.ContentLength = 100
				go func() { _, _ = pw.Write([]byte{0x0a, 0x20, 'a'}) }()
				type result struct {
					res *http.Response
					err error
				}
				done := make(chan result, 1)
				go func() {
					res, err := tr.client.Do(req)
					done <- result{res, err}
				}()
				select {
				case r := <-done:
					if r.err != nil {
						t.Fatal(r.err)
					}
					defer r.res.Body.Close()
					var body struct{ Code string }
					_ = json.NewDecoder(r.res.Body).Decode(&body)
					if body.Code != "deadline_exceeded" {
						t.Fatalf("status %d, code %q; want deadline_exceeded", r.res.StatusCode, body.Code)
					}
				case <-time.After(20 * time.Second): // a hang detector, not a speed bound
					t.Fatal("no answer: the handler is still reading")
				}
			})
		}
	})
}

package rpc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// Over HTTP/1.1 a bidi handler may answer and return before it has read the
// whole request body (a chat that ends on "goodbye"). The connection must
// stay good for the next call: the handler drains what is left, on every
// protocol that carries bidi over HTTP/1.1.
func TestHTTP1BidiReturnsEarlyThenNextCall(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		msg, err := s.Receive()
		if err != nil {
			return err
		}
		return s.Send(wrapperspb.String("bye " + msg.Value)) // and leave the rest unread
	}))
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) { return req, nil }))
	srv := httptest.NewServer(mux) // HTTP/1.1 only
	t.Cleanup(srv.Close)
	// One connection, so the next call reuses it.
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	t.Cleanup(hc.CloseIdleConnections)
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPCWeb} {
		for round := range 3 {
			call, err := rpc.NewClient[sv, sv](hc, srv.URL, specBidi, rpc.WithProtocol(p)).CallBidiStream(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"a", "b", "c"} {
				if err := call.Send(wrapperspb.String(v)); err != nil {
					t.Fatalf("%v round %d: send: %v", p, round, err)
				}
			}
			_ = call.CloseSend()
			res, err := call.Receive()
			if err != nil || res.Value != "bye a" {
				t.Fatalf("%v round %d: receive: %v %v", p, round, res, err)
			}
			_ = call.CloseReceive()
			if _, err := rpc.NewClient[sv, sv](hc, srv.URL, specUnary, rpc.WithProtocol(p)).CallUnary(context.Background(), wrapperspb.String("next")); err != nil {
				t.Fatalf("%v round %d: the next call on the connection: %v", p, round, err)
			}
		}
	}
}

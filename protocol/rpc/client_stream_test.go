package rpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// After Receive has reported how a call ended, the call stays consistent on
// every protocol: Send reports io.EOF, Receive repeats the status, and closing
// either side (again) is harmless. (Receive also releases the call's context
// and body at that point; that has no effect visible from here.)
func TestClientStreamReleasesAtTheEnd(t *testing.T) {
	spec := rpc.Spec{Procedure: "/test.v1.Stop/Now", StreamType: rpc.StreamTypeBidi}
	mux := http.NewServeMux()
	mux.Handle(spec.Procedure, rpc.NewBidiStreamHandler(spec, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		if _, err := s.Receive(); err != nil {
			return err
		}
		return rpc.NewError(rpc.CodeAborted, "enough")
	}))
	srv, h2 := newH2CServer(t, mux)
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		bidi, err := rpc.NewClient[sv, sv](h2, srv.URL, spec, rpc.WithProtocol(p)).CallBidiStream(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := bidi.Send(wrapperspb.String("one")); err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if _, err := bidi.Receive(); rpc.CodeOf(err) != rpc.CodeAborted {
			t.Fatalf("%v: receive: %v", p, err)
		}
		if err := bidi.Send(wrapperspb.String("two")); !errors.Is(err, io.EOF) {
			t.Fatalf("%v: send after the end: %v, want io.EOF", p, err)
		}
		if _, err := bidi.Receive(); rpc.CodeOf(err) != rpc.CodeAborted {
			t.Fatalf("%v: receive again: %v", p, err)
		}
		if err := bidi.CloseSend(); err != nil {
			t.Fatalf("%v: close send: %v", p, err)
		}
		if err := bidi.CloseReceive(); err != nil {
			t.Fatalf("%v: close receive: %v", p, err)
		}
	}
}

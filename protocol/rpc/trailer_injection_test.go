package rpc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// TestTrailerValuesCannotInjectLines: a handler that echoes a request id
// holding CR/LF into its trailers or its error's metadata cannot inject
// trailer lines, such as a second grpc-status that turns a failure into a
// success: the client sees the handler's own status on every protocol and
// transport. gRPC-Web wrote such values raw into its trailers frame; the
// client read "grpc-status: 0" from the injected line. And a gRPC-Web
// client rejects a trailers frame with control characters in a value.
func TestTrailerValuesCannotInjectLines(t *testing.T) {
	noLeaks(t)
	const evil = "id\r\ngrpc-status: 0\r\ngrpc-message: fine"
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-Request-Id", evil)
		info.ResponseTrailer()["x-raw\r\ngrpc-status"] = []string{"0"}
		e := rpc.NewError(rpc.CodeAborted, "no")
		e.Meta().Set("X-Error-Id", evil)
		return nil, e
	}))
	mux.Handle(specServer.Procedure, rpc.NewServerStreamHandler(specServer, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-Request-Id", evil)
		if err := s.Send(req); err != nil {
			return err
		}
		e := rpc.NewError(rpc.CodeAborted, "no")
		e.Meta().Set("X-Error-Id", evil)
		return e
	}))
	transports := netTransports(t, mux, nil)
	forEachProtocolAndTransport(t, transports, func(t *testing.T, tr netTransport, p rpc.Protocol) {
		_, err := rpc.NewClient[sv, sv](tr.client, tr.url, specUnary, rpc.WithProtocol(p)).CallUnary(context.Background(), wrapperspb.String("x"))
		if rpc.CodeOf(err) != rpc.CodeAborted {
			t.Errorf("unary: %v, want aborted", err)
		}
		stream, err := rpc.NewClient[sv, sv](tr.client, tr.url, specServer, rpc.WithProtocol(p)).CallServerStream(context.Background(), wrapperspb.String("x"))
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		var last error
		for _, err := range stream.All() {
			last = err
		}
		if rpc.CodeOf(last) != rpc.CodeAborted {
			t.Errorf("stream: %v, want aborted", last)
		}
	})
	t.Run("client rejects", func(t *testing.T) {
		for _, block := range []string{"grpc-status: 0\r\nx-id: a\rb\r\n", "grpc-status: 0\r\nx-id: a\x00b\r\n", "grpc-status: 0\r\nx id: 1\r\n"} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/grpc-web+proto")
				frame := append([]byte{0, 0, 0, 0, 0}, 0x80, 0, 0, 0, byte(len(block)))
				_, _ = w.Write(append(frame, block...))
			}))
			_, err := rpc.NewClient[sv, sv](srv.Client(), srv.URL, specUnary, rpc.WithProtocol(rpc.ProtocolGRPCWeb)).CallUnary(context.Background(), wrapperspb.String("x"))
			srv.Close()
			if rpc.CodeOf(err) != rpc.CodeInternal {
				t.Errorf("%q: %v, want internal", block, err)
			}
		}
	})
}

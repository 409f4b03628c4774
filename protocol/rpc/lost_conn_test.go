package rpc_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

type connKey struct{}

// TestConnectionLostBetweenMessages: a connection that breaks exactly
// between two messages of a response stream is UNAVAILABLE (worth a retry),
// not INTERNAL. Over HTTP/1.1 the cut chunked body used to read as a
// malformed envelope ("incomplete envelope: got 0 of 5 prefix bytes").
func TestConnectionLostBetweenMessages(t *testing.T) {
	noLeaks(t)
	msg, _ := proto.Marshal(wrapperspb.String("first"))
	frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	for _, tc := range []struct {
		name        string
		protocol    rpc.Protocol
		contentType string
		h2c         bool
	}{
		{"connect/http1", rpc.ProtocolConnect, "application/connect+proto", false},
		{"grpcweb/http1", rpc.ProtocolGRPCWeb, "application/grpc-web+proto", false},
		{"connect/h2c", rpc.ProtocolConnect, "application/connect+proto", true},
		{"grpc/h2c", rpc.ProtocolGRPC, "application/grpc", true},
		{"grpcweb/h2c", rpc.ProtocolGRPCWeb, "application/grpc-web+proto", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotFirst := make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body) // the whole request first
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(frame)
				http.NewResponseController(w).Flush()
				// The connection breaks right after a whole message, once the
				// client has it (over HTTP/2 Flush only queues the frame).
				select {
				case <-gotFirst:
				case <-r.Context().Done():
				}
				_ = r.Context().Value(connKey{}).(net.Conn).Close()
				<-r.Context().Done()
			}))
			srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
				return context.WithValue(ctx, connKey{}, c)
			}
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetHTTP1(true)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
			srv.Start()
			defer srv.Close()
			tr := &http.Transport{Protocols: new(http.Protocols)}
			defer tr.CloseIdleConnections()
			if tc.h2c {
				tr.Protocols.SetUnencryptedHTTP2(true)
			} else {
				tr.Protocols.SetHTTP1(true)
			}
			c := rpc.NewClient[sv, sv](&http.Client{Transport: tr}, srv.URL, specServer, rpc.WithProtocol(tc.protocol))
			stream, err := c.CallServerStream(context.Background(), wrapperspb.String("x"))
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			if res, err := stream.Receive(); err != nil || res.Value != "first" {
				t.Fatalf("first message: %v, %v", res, err)
			}
			close(gotFirst)
			if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeUnavailable {
				t.Fatalf("after the connection broke: %v, want unavailable", err)
			}
		})
	}
}

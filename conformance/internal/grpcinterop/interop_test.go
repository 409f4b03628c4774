package grpcinterop_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"polyconnect.dev/conformance/internal/grpcinterop"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// unsupported are the test cases polyconnect's server cannot pass, and why.
var unsupported = map[string]string{}

// fullDuplex are the test cases that wait for a response before closing
// the request stream, which HTTP/1.1's half-duplex streams cannot do.
var fullDuplex = map[string]bool{
	"ping_pong":                   true,
	"cancel_after_first_response": true,
	"custom_metadata":             true,
}

// TestCasesInMemory runs every test case of our client against our server,
// over each protocol.
func TestCasesInMemory(t *testing.T) {
	srv := rpctest.NewServer(t, grpcinterop.NewHandler(&grpcinterop.Server{ID: "test", Hostname: "test"}))
	setups := []struct {
		name   string
		client *http.Client
		opts   []rpc.ClientOption
	}{
		{"connect/http1", srv.Client(), nil},
		{"connect/h2c", srv.HTTP2Client(), nil},
		{"grpc/h2c", srv.HTTP2Client(), []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPC)}},
		{"grpcweb/http1", srv.Client(), []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPCWeb)}},
		{"grpcweb/h2c", srv.HTTP2Client(), []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPCWeb)}},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			for _, name := range grpcinterop.TestCaseNames() {
				t.Run(name, func(t *testing.T) {
					if why, ok := unsupported[name]; ok {
						t.Skip(why)
					}
					if fullDuplex[name] && s.client == srv.Client() {
						t.Skip("full-duplex streams need HTTP/2")
					}
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					c := grpcinterop.NewClient(s.client, srv.URL(), s.opts...)
					if err := grpcinterop.TestCases[name](ctx, c); err != nil {
						t.Fatal(err)
					}
				})
			}
		})
	}
}

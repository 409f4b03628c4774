package grpccompat_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"polyconnect.dev/grpccompat"
	"polyconnect.dev/protocol/rpc"
)

// Example mounts a protoc-gen-go-grpc service on a Registrar and calls it
// with the generated client over a ClientConn, with the Connect protocol.
func Example() {
	reg := grpccompat.NewRegistrar()
	testgrpc.RegisterTestServiceServer(reg, testServer{}) // the generated RegisterFooServer
	srv := httptest.NewServer(reg)                        // any polyconnect transport serves it
	defer srv.Close()

	// Any HTTP client: a polyconnect transport's client, for one.
	conn := grpccompat.NewClientConn(srv.Client(), srv.URL,
		grpccompat.WithClientOptions(rpc.WithProtocol(rpc.ProtocolConnect)))
	client := testgrpc.NewTestServiceClient(conn) // the generated NewFooClient
	res, err := client.UnaryCall(context.Background(), &testgrpc.SimpleRequest{
		Payload: &testgrpc.Payload{Body: []byte("hello")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(res.GetPayload().GetBody()))
	// Output: hello
}

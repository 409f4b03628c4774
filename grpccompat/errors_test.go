package grpccompat_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"polyconnect.dev/grpccompat"
	"polyconnect.dev/protocol/rpc"
)

// faultyServer answers with what grpc-go handlers may get wrong.
type faultyServer struct {
	testgrpc.UnimplementedTestServiceServer
}

// EmptyCall returns neither a response nor an error.
func (faultyServer) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return nil, nil
}

// UnaryCall returns an error that is not a status, after headers were sent
// and set again.
func (faultyServer) UnaryCall(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if err := grpc.SendHeader(ctx, metadata.Pairs("x-first", "1")); err != nil {
		return nil, err
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-late", "1")); status.Code(err) != codes.Internal {
		return nil, status.Errorf(codes.FailedPrecondition, "SetHeader after SendHeader: %v", err)
	}
	return nil, errors.New("plain failure")
}

func TestHandlerFaults(t *testing.T) {
	reg := grpccompat.NewRegistrar()
	testgrpc.RegisterTestServiceServer(reg, faultyServer{})
	srv, hc := newServer(t, reg)
	for _, p := range protocols {
		client := testgrpc.NewTestServiceClient(grpccompat.NewClientConn(hc, srv.URL, grpccompat.WithClientOptions(rpc.WithProtocol(p))))
		if _, err := client.EmptyCall(context.Background(), &testgrpc.Empty{}); status.Code(err) != codes.Internal {
			t.Errorf("%v: nil response: %v", p, err)
		}
		var header metadata.MD
		_, err := client.UnaryCall(context.Background(), &testgrpc.SimpleRequest{}, grpc.Header(&header))
		if st, _ := status.FromError(err); st.Code() != codes.Unknown || st.Message() != "plain failure" {
			t.Errorf("%v: plain error: %v", p, err)
		}
		if first(header, "x-first") != "1" || first(header, "x-late") != "" {
			t.Errorf("%v: header %v", p, header)
		}
	}
}

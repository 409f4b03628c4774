package grpcinterop_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"polyconnect.dev/conformance/internal/grpcinterop"
	"polyconnect.dev/conformance/internal/grpctesting"
	"polyconnect.dev/conformance/internal/grpctesting/grpctestingrpc"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

func newTestClient(t *testing.T, opts ...rpc.ClientOption) grpctestingrpc.TestServiceClient {
	t.Helper()
	srv := rpctest.NewServer(t, grpcinterop.NewHandler(&grpcinterop.Server{ID: "server-1", Hostname: "host-1"}))
	opts = append([]rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPC)}, opts...)
	return grpctestingrpc.NewTestServiceClient(srv.HTTP2Client(), srv.URL(), opts...)
}

func TestServerUnaryFields(t *testing.T) {
	client := newTestClient(t)
	res, err := client.UnaryCall(context.Background(), &grpctesting.SimpleRequest{
		ResponseType: grpctesting.PayloadType_COMPRESSABLE,
		ResponseSize: 7,
		FillServerId: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.GetPayload().GetBody()) != 7 || res.GetServerId() != "server-1" || res.GetHostname() != "host-1" {
		t.Errorf("response %v: want 7 bytes, server_id server-1, hostname host-1", res)
	}
	res, err = client.UnaryCall(context.Background(), &grpctesting.SimpleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetServerId() != "" {
		t.Errorf("server_id %q without fill_server_id", res.GetServerId())
	}
}

func TestServerRejectsBadPayloadRequests(t *testing.T) {
	client := newTestClient(t)
	for _, req := range []*grpctesting.SimpleRequest{
		{ResponseType: grpctesting.PayloadType(7), ResponseSize: 1},
		{ResponseSize: -1},
	} {
		_, err := client.UnaryCall(context.Background(), req)
		if rpc.CodeOf(err) != rpc.CodeInvalidArgument {
			t.Errorf("UnaryCall(%v): %v, want INVALID_ARGUMENT", req, err)
		}
	}
}

func TestServerEchoesFirstMetadataValue(t *testing.T) {
	client := newTestClient(t)
	ctx, ci := rpc.NewClientContext(context.Background())
	ci.RequestHeader().Add(grpcinterop.EchoInitialKey, "one")
	ci.RequestHeader().Add(grpcinterop.EchoInitialKey, "two")
	ci.RequestHeader().Set(grpcinterop.EchoTrailingKey, "AAEC")
	if _, err := client.EmptyCall(ctx, &grpctesting.Empty{}); err != nil {
		t.Fatal(err)
	}
	// EmptyCall echoes nothing; UnaryCall does.
	if got := ci.ResponseHeader().Values(grpcinterop.EchoInitialKey); len(got) != 0 {
		t.Errorf("EmptyCall echoed %q", got)
	}
	ctx, ci = rpc.NewClientContext(context.Background())
	ci.RequestHeader().Add(grpcinterop.EchoInitialKey, "one")
	ci.RequestHeader().Add(grpcinterop.EchoInitialKey, "two")
	ci.RequestHeader().Set(grpcinterop.EchoTrailingKey, "AAEC")
	if _, err := client.UnaryCall(ctx, &grpctesting.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := ci.ResponseHeader().Values(grpcinterop.EchoInitialKey); !slices.Equal(got, []string{"one"}) {
		t.Errorf("initial metadata echoed as %q, want [one]", got)
	}
	if got := ci.ResponseTrailer().Values(grpcinterop.EchoTrailingKey); !slices.Equal(got, []string{"AAEC"}) {
		t.Errorf("trailing metadata echoed as %q, want [AAEC]", got)
	}
}

func TestServerEchoesMetadataWithError(t *testing.T) {
	client := newTestClient(t)
	ctx, ci := rpc.NewClientContext(context.Background())
	ci.RequestHeader().Set(grpcinterop.EchoTrailingKey, "AAEC")
	_, err := client.UnaryCall(ctx, &grpctesting.SimpleRequest{
		ResponseStatus: &grpctesting.EchoStatus{Code: int32(rpc.CodeAborted), Message: "no"},
	})
	if rpc.CodeOf(err) != rpc.CodeAborted {
		t.Fatalf("UnaryCall: %v, want ABORTED", err)
	}
	if got := ci.ResponseTrailer().Values(grpcinterop.EchoTrailingKey); !slices.Equal(got, []string{"AAEC"}) {
		t.Errorf("trailing metadata echoed as %q, want [AAEC]", got)
	}
}

func TestServerExpectCompressed(t *testing.T) {
	plain := newTestClient(t)
	gzip := newTestClient(t, rpc.WithSendCompression("gzip"))
	expect := &grpctesting.SimpleRequest{ExpectCompressed: &grpctesting.BoolValue{Value: true}}
	if _, err := plain.UnaryCall(context.Background(), expect); rpc.CodeOf(err) != rpc.CodeInvalidArgument {
		t.Errorf("uncompressed, expect_compressed: %v, want INVALID_ARGUMENT", err)
	}
	if _, err := gzip.UnaryCall(context.Background(), expect); err != nil {
		t.Errorf("compressed, expect_compressed: %v", err)
	}
	if _, err := gzip.UnaryCall(context.Background(), &grpctesting.SimpleRequest{}); err != nil {
		t.Errorf("compressed, no expectation: %v", err)
	}
}

func TestServerStreamingIntervals(t *testing.T) {
	client := newTestClient(t)
	start := time.Now()
	stream, err := client.StreamingOutputCall(context.Background(), &grpctesting.StreamingOutputCallRequest{
		ResponseType: grpctesting.PayloadType_COMPRESSABLE,
		ResponseParameters: []*grpctesting.ResponseParameters{
			{Size: 1, IntervalUs: 20_000},
			{Size: 2, IntervalUs: 20_000, FillPeerSocketAddress: &grpctesting.BoolValue{Value: true}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var peer string
	for res, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(res.GetPayload().GetBody()))
		peer = res.GetPeerSocketAddress()
	}
	if !slices.Equal(sizes, []int{1, 2}) {
		t.Errorf("sizes %v, want [1 2]", sizes)
	}
	if peer == "" {
		t.Error("no peer_socket_address with fill_peer_socket_address")
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("two 20ms intervals took %v", d)
	}
}

func TestServerIntervalEndsWithDeadline(t *testing.T) {
	client := newTestClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	stream, err := client.StreamingOutputCall(ctx, &grpctesting.StreamingOutputCallRequest{
		ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
		ResponseParameters: []*grpctesting.ResponseParameters{{Size: 1, IntervalUs: 60_000_000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.Receive()
	if rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		t.Errorf("Receive: %v, want DEADLINE_EXCEEDED", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the call took %v despite a 50ms deadline", d)
	}
}

func TestServerHalfDuplex(t *testing.T) {
	client := newTestClient(t)
	stream, err := client.HalfDuplexCall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseReceive()
	for _, size := range []int32{3, 4} {
		err := stream.Send(&grpctesting.StreamingOutputCallRequest{
			ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
			ResponseParameters: []*grpctesting.ResponseParameters{{Size: size}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for res, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(res.GetPayload().GetBody()))
	}
	if !slices.Equal(sizes, []int{3, 4}) {
		t.Errorf("sizes %v, want [3 4]", sizes)
	}
}

func TestServerCacheableUnaryCall(t *testing.T) {
	client := newTestClient(t)
	ctx, ci := rpc.NewClientContext(context.Background())
	res, err := client.CacheableUnaryCall(ctx, &grpctesting.SimpleRequest{ResponseSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.GetPayload().GetBody()) != 3 || ci.ResponseHeader().Get("Cache-Control") == "" {
		t.Errorf("response %v with headers %v: want 3 bytes and Cache-Control", res, ci.ResponseHeader())
	}
}

package service_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
	"polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1/conformancev1rpc"
	"polyconnect.dev/conformance/internal/service"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// The service behaves as the suite's docs describe; run.sh checks the rest
// against the reference client.
func TestService(t *testing.T) {
	srv := rpctest.NewServer(t, service.NewHandler())
	client := conformancev1rpc.NewConformanceServiceClient(srv.HTTP2Client(), srv.URL())
	ctx := context.Background()

	cctx, info := rpc.NewClientContext(ctx)
	info.RequestHeader().Set("X-Test", "yes")
	res, err := client.Unary(cctx, &v1.UnaryRequest{ResponseDefinition: &v1.UnaryResponseDefinition{
		ResponseHeaders:  []*v1.Header{{Name: "x-h", Value: []string{"h"}}},
		ResponseTrailers: []*v1.Header{{Name: "x-t", Value: []string{"t"}}},
		Response:         &v1.UnaryResponseDefinition_ResponseData{ResponseData: []byte("data")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.GetPayload().GetData()) != "data" || len(res.GetPayload().GetRequestInfo().GetRequests()) != 1 {
		t.Fatalf("payload %v", res.GetPayload())
	}
	if info.ResponseHeader().Get("X-H") != "h" || info.ResponseTrailer().Get("X-T") != "t" {
		t.Fatalf("metadata %v %v", info.ResponseHeader(), info.ResponseTrailer())
	}

	stream, err := client.ServerStream(ctx, &v1.ServerStreamRequest{ResponseDefinition: &v1.StreamResponseDefinition{
		Error: &v1.Error{Code: v1.Code_CODE_ABORTED},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.Receive()
	var e *rpc.Error
	if !errors.As(err, &e) || e.Code() != rpc.CodeAborted || len(e.Details()) != 1 {
		t.Fatalf("server stream error %v", err)
	}
	var reqInfo v1.ConformancePayload_RequestInfo
	if err := anypb.UnmarshalTo(e.Details()[0], &reqInfo, proto.UnmarshalOptions{}); err != nil || len(reqInfo.GetRequests()) != 1 {
		t.Fatalf("error detail: %v %v", &reqInfo, err)
	}
	stream.Close()

	bidi, err := client.BidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	def := &v1.StreamResponseDefinition{ResponseData: [][]byte{[]byte("1"), []byte("2")}}
	for _, req := range []*v1.BidiStreamRequest{{ResponseDefinition: def, FullDuplex: true}, {RequestData: []byte("x")}} {
		if err := bidi.Send(req); err != nil {
			t.Fatal(err)
		}
		res, err := bidi.Receive()
		if err != nil || len(res.GetPayload().GetRequestInfo().GetRequests()) != 1 {
			t.Fatalf("full duplex: %v %v", res, err)
		}
	}
	_ = bidi.CloseSend()
	if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
		t.Fatalf("bidi end: %v", err)
	}
	_ = bidi.CloseReceive()

	if _, err := client.Unimplemented(ctx, &v1.UnimplementedRequest{}); rpc.CodeOf(err) != rpc.CodeUnimplemented {
		t.Fatalf("Unimplemented: %v", err)
	}
}

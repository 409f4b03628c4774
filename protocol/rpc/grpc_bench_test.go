package rpc_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// The gRPC counterparts of the unary benchmarks in bench_test.go: the same
// framework-only cost, with a request already in gRPC framing and a canned
// gRPC response (one message, then the status in trailers).

func BenchmarkGRPCUnaryHandler(b *testing.B) {
	for _, ct := range []string{"application/grpc", "application/grpc-web+proto"} {
		b.Run(ct, func(b *testing.B) {
			payload := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
			h := rpc.NewUnaryHandler(specUnary, func(_ context.Context, req *sv) (*sv, error) { return req, nil })
			msg, _ := proto.Marshal(payload)
			benchGRPCUnaryHandler(b, h, ct, envelope(0, uint32(len(msg)), msg))
		})
	}
}

// benchGRPCUnaryHandler serves the request body with Content-Type ct over
// and over, as HTTP/2 with TE: trailers.
func benchGRPCUnaryHandler(b *testing.B, h http.Handler, ct string, body []byte) {
	rb := &resettableBody{}
	req, _ := http.NewRequest(http.MethodPost, "http://bench"+specUnary.Procedure, rb)
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Te", "trailers")
	benchServe(b, h, req, rb, body)
}

func BenchmarkGRPCUnaryClient(b *testing.B) {
	payload := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
	msg, _ := proto.Marshal(payload)
	b.Run("grpc", func(b *testing.B) {
		mc := &memoryClient{data: envelope(0, uint32(len(msg)), msg)}
		mc.res = http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/grpc"}}, Body: &mc.body, ContentLength: -1,
			Trailer: http.Header{"Grpc-Status": {"0"}}}
		benchUnaryClient(b, mc, rpc.ProtocolGRPC, payload)
	})
	b.Run("grpcweb", func(b *testing.B) {
		data := append(envelope(0, uint32(len(msg)), msg), envelope(0x80, 16, []byte("grpc-status: 0\r\n"))...)
		mc := &memoryClient{data: data}
		mc.res = http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/grpc-web+proto"}}, Body: &mc.body, ContentLength: int64(len(data))}
		benchUnaryClient(b, mc, rpc.ProtocolGRPCWeb, payload)
	})
}

func benchUnaryClient(b *testing.B, mc *memoryClient, p rpc.Protocol, payload *sv, opts ...rpc.ClientOption) {
	client := rpc.NewClient[sv, sv](mc, "http://bench", specUnary, append([]rpc.ClientOption{rpc.WithProtocol(p)}, opts...)...)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.CallUnary(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGRPCServerStreamH2C is BenchmarkServerStreamH2C over gRPC.
func BenchmarkGRPCServerStreamH2C(b *testing.B) {
	benchServerStreamH2C(b, rpc.WithProtocol(rpc.ProtocolGRPC))
}

package rpc_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// The gRPC-Web benchmarks the gRPC ones leave out: the -text variant, whose
// bodies are base64 (the stream decoder on both sides), with a trailer (the
// trailers frame writer and parser), and server streams in both variants.

func BenchmarkGRPCWebTextUnaryHandler(b *testing.B) {
	payload := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
	// A response with a trailer: the status goes in a trailers frame.
	h := rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-Served-By", "bench")
		return req, nil
	})
	msg, _ := proto.Marshal(payload)
	benchGRPCUnaryHandler(b, h, "application/grpc-web-text+proto", []byte(base64.StdEncoding.EncodeToString(envelope(0, uint32(len(msg)), msg))))
}

func BenchmarkGRPCWebTextUnaryClient(b *testing.B) {
	payload := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
	msg, _ := proto.Marshal(payload)
	// Two pieces, each padded: the message, then the trailers frame.
	trailers := "grpc-status: 0\r\nx-served-by: bench\r\n"
	data := []byte(base64.StdEncoding.EncodeToString(envelope(0, uint32(len(msg)), msg)) +
		base64.StdEncoding.EncodeToString(envelope(0x80, uint32(len(trailers)), []byte(trailers))))
	mc := &memoryClient{data: data}
	mc.res = http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/grpc-web-text+proto"}}, Body: &mc.body, ContentLength: int64(len(data))}
	benchUnaryClient(b, mc, rpc.ProtocolGRPCWeb, payload, rpc.WithGRPCWebText())
}

// BenchmarkGRPCWebServerStreamH2C is BenchmarkServerStreamH2C over gRPC-Web,
// binary and text.
func BenchmarkGRPCWebServerStreamH2C(b *testing.B) {
	b.Run("binary", func(b *testing.B) {
		benchServerStreamH2C(b, rpc.WithProtocol(rpc.ProtocolGRPCWeb))
	})
	b.Run("text", func(b *testing.B) {
		benchServerStreamH2C(b, rpc.WithProtocol(rpc.ProtocolGRPCWeb), rpc.WithGRPCWebText())
	})
}

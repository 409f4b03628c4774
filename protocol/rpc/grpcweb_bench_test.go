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
	body := []byte(base64.StdEncoding.EncodeToString(envelope(0, uint32(len(msg)), msg)))
	rb := &resettableBody{}
	req, _ := http.NewRequest(http.MethodPost, "http://bench"+specUnary.Procedure, rb)
	req.Header.Set("Content-Type", "application/grpc-web-text+proto")
	w := &nopResponseWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset(body)
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK || w.n == 0 {
			b.Fatalf("status %d, %d bytes: %v", w.code, w.n, w.h)
		}
	}
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
	client := rpc.NewClient[sv, sv](mc, "http://bench", specUnary, rpc.WithProtocol(rpc.ProtocolGRPCWeb), rpc.WithGRPCWebText())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.CallUnary(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGRPCWebServerStreamH2C is BenchmarkServerStreamH2C over gRPC-Web,
// binary and text.
func BenchmarkGRPCWebServerStreamH2C(b *testing.B) {
	const n = 10_000
	payload := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
	spec := rpc.Spec{Procedure: "/bench.v1.Bench/Stream", StreamType: rpc.StreamTypeServer}
	mux := http.NewServeMux()
	mux.Handle(spec.Procedure, rpc.NewServerStreamHandler(spec, func(_ context.Context, _ *sv, s *rpc.ServerStream[sv]) error {
		for range n {
			if err := s.Send(payload); err != nil {
				return err
			}
		}
		return nil
	}))
	srv, hc := newH2CServerB(b, mux)
	for _, variant := range []struct {
		name string
		opts []rpc.ClientOption
	}{
		{"binary", []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPCWeb)}},
		{"text", []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPCWeb), rpc.WithGRPCWebText()}},
	} {
		b.Run(variant.name, func(b *testing.B) {
			client := rpc.NewClient[sv, sv](hc, srv, spec, variant.opts...)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				stream, err := client.CallServerStream(ctx, payload)
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for _, err := range stream.All() {
					if err != nil {
						b.Fatal(err)
					}
					got++
				}
				if got != n {
					b.Fatalf("got %d messages", got)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

package rpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// What a client interceptor that does nothing costs per call: the same
// calls with no interceptor and with one pass-through interceptor (it wraps
// and calls next), unary and server streaming. The "memory" variants answer
// from memory (the client's allocations only, deterministic); the "rpctest"
// variants run whole calls through the in-process pair, server included.

// passClientStream is passClient's streaming counterpart: it wraps the
// opening of a stream and calls next.
var passClientStream = rpc.ClientStreamInterceptorFunc(func(_ rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return func(ctx context.Context) (rpc.StreamingClientConn, error) { return next(ctx) }
})

// passBoth is one pass-through interceptor of unary calls and streams.
type passBoth struct{}

func (passBoth) WrapClientUnary(s rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return passClient.WrapClientUnary(s, next)
}

func (passBoth) WrapClientStream(s rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return passClientStream.WrapClientStream(s, next)
}

// cannedStream answers every request, after reading its body, with the same
// Connect server-stream response: one message and the end of the stream.
type cannedStream struct{ data []byte }

func newCannedStream(t testing.TB, msg proto.Message) *cannedStream {
	body, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	data := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(body)))
	data = append(data, body...)
	data = binary.BigEndian.AppendUint32(append(data, 2), 2)
	data = append(data, "{}"...)
	return &cannedStream{data: data}
}

func (c *cannedStream) Do(req *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, req.Body)
	_ = req.Body.Close()
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/connect+proto"}},
		Body:          io.NopCloser(bytes.NewReader(c.data)),
		ContentLength: int64(len(c.data)),
		Request:       req,
	}, nil
}

// costCase is one kind of call, ready to run once.
type costCase struct {
	name string
	call func(t testing.TB, opts ...rpc.ClientOption) func()
}

func unaryCall(hc rpc.HTTPClient, url string) func(testing.TB, ...rpc.ClientOption) func() {
	return func(t testing.TB, opts ...rpc.ClientOption) func() {
		client := rpc.NewClient[sv, sv](hc, url, specUnary, opts...)
		req := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
		ctx := context.Background()
		return func() {
			if _, err := client.CallUnary(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func serverStreamCall(hc rpc.HTTPClient, url string) func(testing.TB, ...rpc.ClientOption) func() {
	return func(t testing.TB, opts ...rpc.ClientOption) func() {
		client := rpc.NewClient[sv, sv](hc, url, specServer, opts...)
		req := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
		ctx := context.Background()
		return func() {
			stream, err := client.CallServerStream(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			receiveAll(t, stream, 1)
		}
	}
}

// receiveAll reads stream to its end and wants n messages.
func receiveAll(t testing.TB, stream *rpc.ServerStreamCall[sv], n int) {
	t.Helper()
	got := 0
	for _, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n {
		t.Fatalf("%d messages, want %d", got, n)
	}
}

// memoryCases are calls answered from memory.
func memoryCases(t testing.TB) []costCase {
	msg := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
	data, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	mc := &memoryClient{data: data}
	mc.res = http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/proto"}}, Body: &mc.body, ContentLength: int64(len(data))}
	return []costCase{
		{"unary", unaryCall(mc, "http://bench")},
		{"server_stream", serverStreamCall(newCannedStream(t, msg), "http://bench")},
	}
}

// rpctestCases are whole calls through the in-process pair over HTTP/2.
func rpctestCases(t testing.TB) []costCase {
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(_ context.Context, r *sv) (*sv, error) { return r, nil }))
	mux.Handle(specServer.Procedure, rpc.NewServerStreamHandler(specServer, func(_ context.Context, r *sv, s *rpc.ServerStream[sv]) error {
		return s.Send(r)
	}))
	srv := rpctest.NewServer(t, mux)
	return []costCase{
		{"unary", unaryCall(srv.HTTP2Client(), srv.URL())},
		{"server_stream", serverStreamCall(srv.HTTP2Client(), srv.URL())},
	}
}

func BenchmarkClientInterceptorCost(b *testing.B) {
	for _, where := range []struct {
		name  string
		cases func(testing.TB) []costCase
	}{{"memory", memoryCases}, {"rpctest", rpctestCases}} {
		for _, c := range where.cases(b) {
			for _, ic := range []struct {
				name string
				opts []rpc.ClientOption
			}{
				{"none", nil},
				{"pass", []rpc.ClientOption{rpc.WithClientInterceptors(passBoth{})}},
			} {
				b.Run(where.name+"/"+c.name+"/"+ic.name, func(b *testing.B) {
					run := c.call(b, ic.opts...)
					b.ReportAllocs()
					for b.Loop() {
						run()
					}
				})
			}
		}
	}
}

// A client interceptor that does nothing but call next costs at most one
// allocation per call (the call info the client attaches for it), unary or
// streaming. Allocation counts are deterministic: AllocsPerRun counts
// mallocs, it does not time. The race detector makes the package's pools
// drop buffers at random, so the comparison runs without it.
func TestPassThroughClientInterceptorCost(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts vary under the race detector")
	}
	const margin = 1 // the call info of the call; nothing else
	for _, c := range memoryCases(t) {
		base := testing.AllocsPerRun(200, c.call(t))
		with := testing.AllocsPerRun(200, c.call(t, rpc.WithClientInterceptors(passBoth{})))
		t.Logf("%s: %v allocations per call without an interceptor, %v with a pass-through one", c.name, base, with)
		if with > base+margin {
			t.Errorf("%s: %v allocations per call with a pass-through interceptor, %v without (at most %d more allowed)", c.name, with, base, margin)
		}
	}
}

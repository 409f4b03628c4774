package rpc_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// These benchmarks isolate the framework's cost of one unary Connect call
// from net/http: the handler is driven with a reused request and a minimal
// ResponseWriter, and the client with an HTTPClient that answers from memory.
// The messages themselves (one request and one response, 100 bytes) are part
// of each side's count: one allocation for the decoded message plus what
// protobuf needs for its string field.

type nopResponseWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *nopResponseWriter) Header() http.Header         { return w.h }
func (w *nopResponseWriter) WriteHeader(code int)        { w.code = code }
func (w *nopResponseWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

type resettableBody struct{ bytes.Reader }

func (*resettableBody) Close() error { return nil }

func BenchmarkUnaryHandler(b *testing.B) {
	benchUnaryHandler(b)
}

// The Interceptor benchmarks add one interceptor that only calls on: what
// the interceptor chain itself costs. A unary interceptor sees the decoded
// request; a call interceptor sees the call before it is decoded.
var (
	passUnary = rpc.HandlerUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
		return func(ctx context.Context, req any) (any, error) { return next(ctx, req) }
	})
	passCall = rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error { return next(ctx, conn) }
	})
	passClient = rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
		return func(ctx context.Context, req any) (any, error) { return next(ctx, req) }
	})
)

func BenchmarkUnaryHandlerInterceptor(b *testing.B) {
	benchUnaryHandler(b, rpc.WithHandlerInterceptors(passUnary))
}

func BenchmarkUnaryHandlerCallInterceptor(b *testing.B) {
	benchUnaryHandler(b, rpc.WithHandlerInterceptors(passCall))
}

func benchUnaryHandler(b *testing.B, opts ...rpc.HandlerOption) {
	payload := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
	h := rpc.NewUnaryHandler(specUnary, func(_ context.Context, req *sv) (*sv, error) { return req, nil }, opts...)
	body, _ := proto.Marshal(payload)
	rb := &resettableBody{}
	req, _ := http.NewRequest(http.MethodPost, "http://bench"+specUnary.Procedure, rb)
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Connect-Protocol-Version", "1")
	req.ContentLength = int64(len(body))
	benchServe(b, h, req, rb, body)
}

// benchServe serves req over and over, its body rb reading body afresh
// each time, and expects a 200 with a body.
func benchServe(b *testing.B, h http.Handler, req *http.Request, rb *resettableBody, body []byte) {
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

// memoryClient answers every request with the same canned response.
type memoryClient struct {
	res  http.Response
	body resettableBody
	data []byte
}

func (m *memoryClient) Do(req *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, req.Body)
	_ = req.Body.Close()
	m.body.Reset(m.data)
	return &m.res, nil
}

func BenchmarkUnaryClient(b *testing.B) {
	benchConnectUnaryClient(b)
}

func BenchmarkUnaryClientInterceptor(b *testing.B) {
	benchConnectUnaryClient(b, rpc.WithClientInterceptors(passClient))
}

func benchConnectUnaryClient(b *testing.B, opts ...rpc.ClientOption) {
	payload := wrapperspb.String(string(bytes.Repeat([]byte("x"), 100)))
	data, _ := proto.Marshal(payload)
	mc := &memoryClient{data: data}
	mc.res = http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/proto"}}, Body: &mc.body, ContentLength: int64(len(data))}
	client := rpc.NewClient[sv, sv](mc, "http://bench", specUnary, opts...)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.CallUnary(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServerStreamH2C measures a server stream of 10,000 100-byte
// messages per op over loopback h2c.
func BenchmarkServerStreamH2C(b *testing.B) {
	benchServerStreamH2C(b)
}

// benchServerStreamH2C runs BenchmarkServerStreamH2C with a client made
// with opts: the protocol's counterparts call it with theirs.
func benchServerStreamH2C(b *testing.B, opts ...rpc.ClientOption) {
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
	client := rpc.NewClient[sv, sv](hc, srv, spec, opts...)
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
}

func newH2CServerB(b *testing.B, h http.Handler) (string, *http.Client) {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	b.Cleanup(srv.Close)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	b.Cleanup(tr.CloseIdleConnections)
	return srv.URL, &http.Client{Transport: tr}
}

package interceptors_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/logging"
	"polyconnect.dev/interceptors/ratelimit"
	"polyconnect.dev/interceptors/recovery"
	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/interceptors/selector"
	"polyconnect.dev/interceptors/timeout"
	"polyconnect.dev/protocol/rpc"
)

// The benchmarks measure what one interceptor adds to a unary call, in
// process and without a network: handler-side interceptors on a handler
// served a prepared Connect request, client-side ones on a client whose
// HTTP client answers from memory. Compare each with its "none" baseline:
//
//	go test -run '^$' -bench . -benchmem .

var benchSpec = rpc.Spec{Procedure: "/bench.v1.BenchService/Echo"}

func echo(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return req, nil
}

// recorder is a reusable http.ResponseWriter.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }

func benchHandler(b *testing.B, opts ...rpc.HandlerOption) {
	h := rpc.NewUnaryHandler(benchSpec, echo, opts...)
	payload, err := proto.Marshal(wrapperspb.String("hello, benchmark"))
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.NewReader(payload)
	req, err := http.NewRequest(http.MethodPost, "http://bench"+benchSpec.Procedure, io.NopCloser(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Authorization", "Bearer t0ken")
	req.RemoteAddr = "192.0.2.1:1234"
	req.ContentLength = int64(len(payload))
	w := &recorder{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(payload)
		clear(w.h)
		w.body.Reset()
		w.status = 0
		h.ServeHTTP(w, req)
	}
	if w.status != 0 && w.status != http.StatusOK {
		b.Fatalf("status %d: %s", w.status, w.body.String())
	}
}

// memoryClient answers every request with a Connect unary response.
type memoryClient struct{ payload []byte }

func (m *memoryClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/proto"}},
		Body:          io.NopCloser(bytes.NewReader(m.payload)),
		ContentLength: int64(len(m.payload)),
		Request:       req,
	}, nil
}

func benchClient(b *testing.B, opts ...rpc.ClientOption) {
	payload, err := proto.Marshal(wrapperspb.String("hello, benchmark"))
	if err != nil {
		b.Fatal(err)
	}
	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](&memoryClient{payload: payload}, "http://bench", benchSpec, opts...)
	req := wrapperspb.String("hello, benchmark")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.CallUnary(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandler(b *testing.B) {
	check := func(_ context.Context, req *auth.Request) (any, error) {
		if token, _ := req.BearerToken(); token != "t0ken" {
			return nil, rpc.NewError(rpc.CodeUnauthenticated, "no")
		}
		return "user", nil
	}
	noop := rpc.HandlerUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc { return next })
	cases := []struct {
		name string
		ic   rpc.HandlerInterceptor
	}{
		{"none", nil},
		{"recovery", recovery.New()},
		{"logging/discarded", logging.New(slog.New(slog.DiscardHandler))},
		{"logging/text", logging.New(slog.New(slog.NewTextHandler(io.Discard, nil)))},
		{"auth", auth.NewServer(check)},
		{"timeout", timeout.New(timeout.Limits{Default: time.Minute, Max: time.Hour})},
		{"ratelimit/procedure", ratelimit.New(ratelimit.NewTokenBucket(1e12, 1<<30))},
		{"ratelimit/peer", ratelimit.New(ratelimit.NewTokenBucket(1e12, 1<<30), ratelimit.WithKey(ratelimit.ByPeer))},
		{"selector", selector.Unless(selector.Services("grpc.health.v1.Health"), noop)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.ic == nil {
				benchHandler(b)
				return
			}
			benchHandler(b, rpc.WithHandlerInterceptors(c.ic))
		})
	}
}

func BenchmarkClient(b *testing.B) {
	cases := []struct {
		name string
		ic   rpc.ClientInterceptor
	}{
		{"none", nil},
		{"retry", retry.New()},
		{"auth/bearer", auth.NewClient(auth.Bearer("t0ken"))},
		{"auth/cached-source", auth.NewClient(auth.TokenBearer(auth.CachedTokenSource(auth.TokenSourceFunc(
			func(context.Context) (auth.Token, error) { return auth.Token{Value: "t0ken"}, nil }))))},
		{"timeout", timeout.New(timeout.Limits{Default: time.Minute})},
		{"logging/discarded", logging.New(slog.New(slog.DiscardHandler))},
		{"logging/text", logging.New(slog.New(slog.NewTextHandler(io.Discard, nil)))},
		{"ratelimit", ratelimit.New(ratelimit.NewTokenBucket(1e12, 1<<30))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.ic == nil {
				benchClient(b)
				return
			}
			benchClient(b, rpc.WithClientInterceptors(c.ic))
		})
	}
}

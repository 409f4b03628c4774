package otelrpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// twoSided is an interceptor of clients and handlers, as the otel one is.
type twoSided interface {
	rpc.ClientInterceptor
	rpc.HandlerInterceptor
}

// passThrough is an interceptor that does nothing: the baseline, so that a
// comparison measures the otel interceptor and not the cost of having
// interceptors at all.
type passThrough struct{}

func (passThrough) WrapClientUnary(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return next
}
func (passThrough) WrapClientStream(_ rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return next
}
func (passThrough) WrapHandlerCall(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return next
}
func (passThrough) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return next
}

// cannedHTTP answers every request with the same Connect unary response,
// from memory.
type cannedHTTP struct{ body []byte }

func (c cannedHTTP) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/proto"}},
		Body:       io.NopCloser(bytes.NewReader(c.body)),
		Request:    r,
	}, nil
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Flush()                      {}

// allocsPerCall returns the allocations of one run of f, on average. The
// count is deterministic: AllocsPerRun counts mallocs, it does not time.
func allocsPerCall(f func()) float64 { return testing.AllocsPerRun(200, f) }

// noopOptions are no-op providers with the W3C propagator.
func noopOptions() []otelrpc.Option {
	return []otelrpc.Option{
		otelrpc.WithTracerProvider(tracenoop.NewTracerProvider()),
		otelrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelrpc.WithPropagators(w3c),
	}
}

// With no-op providers the interceptor adds no allocation to a call: on a
// client (unary, opening a stream), on a handler (unary and streaming).
func TestNoopProvidersAddNoAllocations(t *testing.T) {
	otel := otelrpc.NewInterceptor(noopOptions()...)
	checkNoAllocations(t, otel)
	checkNoExtraAllocations(t, otel)
}

// checkNoAllocations runs the interceptor's wrappers alone, on the contexts
// of real calls, and wants no allocation at all.
func checkNoAllocations(t *testing.T, otel twoSided) {
	t.Helper()
	// Capture a handler's context, with its call info, from a real call.
	var handlerCtx context.Context
	var handlerConn rpc.StreamingHandlerConn // a stream's; the no-op interceptor never uses it
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, r *sv) (*sv, error) {
		handlerCtx = ctx
		return r, nil
	}))
	mux.Handle(specServer.Procedure, rpc.NewServerStreamHandler(specServer, func(_ context.Context, r *sv, s *rpc.ServerStream[sv]) error {
		handlerConn = s.Conn()
		return nil
	}))
	pr := &pair{srv: rpctest.NewServer(t, mux)}
	pr.url = pr.srv.URL()
	if _, err := newClient[sv, sv](pr, specUnary, rpc.ProtocolGRPC).CallUnary(context.Background(), wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	stream, err := newClient[sv, sv](pr, specServer, rpc.ProtocolGRPC).CallServerStream(context.Background(), wrapperspb.String("x"))
	if err != nil {
		t.Fatal(err)
	}
	for range stream.All() {
	}

	req := wrapperspb.String("hello")
	echo := func(_ context.Context, r any) (any, error) { return r, nil }
	clientCtx, info := rpc.NewClientContext(context.Background())
	info.RequestHeader().Set("X-Some", "header")
	// Wrapping happens once per client or handler; calls run the wrapped
	// functions.
	unary := otel.WrapClientUnary(specUnary, echo)
	openStream := otel.WrapClientStream(specServer, func(context.Context) (rpc.StreamingClientConn, error) { return nil, nil })
	none := func(context.Context, rpc.StreamingHandlerConn) error { return nil }
	handleUnary := otel.WrapHandlerCall(specUnary, none)
	handleStream := otel.WrapHandlerCall(specServer, none)
	for _, c := range []struct {
		name string
		run  func()
	}{
		{"client unary", func() { _, _ = unary(clientCtx, req) }},
		{"handler unary", func() { _ = handleUnary(handlerCtx, handlerConn) }},
		{"client stream", func() { _, _ = openStream(clientCtx) }},
		{"handler stream", func() { _ = handleStream(handlerCtx, handlerConn) }},
	} {
		if n := allocsPerCall(c.run); n != 0 {
			t.Errorf("%s: %v allocations per call", c.name, n)
		}
	}
}

// checkNoExtraAllocations compares whole calls through otel with calls
// through a pass-through interceptor, in process. The race detector makes
// the rpc package's pools drop buffers at random, so it runs without it.
func checkNoExtraAllocations(t *testing.T, otel twoSided) {
	t.Helper()
	if raceEnabled {
		t.Log("whole-call allocation counts vary under the race detector; run without -race to compare them")
		return
	}
	res, err := proto.Marshal(wrapperspb.String("hello"))
	if err != nil {
		t.Fatal(err)
	}
	req := wrapperspb.String("hello")
	compare := func(name string, run func(twoSided) func()) {
		t.Helper()
		base := allocsPerCall(run(passThrough{}))
		got := allocsPerCall(run(otel))
		if got != base {
			t.Errorf("%s: %v allocations per call with the interceptor, %v without", name, got, base)
		}
	}

	compare("client unary", func(i twoSided) func() {
		client := rpc.NewClient[sv, sv](cannedHTTP{body: res}, "http://example.test", specUnary, rpc.WithClientInterceptors(i))
		return func() {
			if _, err := client.CallUnary(context.Background(), req); err != nil {
				t.Fatal(err)
			}
		}
	})
	compare("client stream open", func(i twoSided) func() {
		var conn rpc.StreamingClientConn
		open := i.WrapClientStream(specServer, func(context.Context) (rpc.StreamingClientConn, error) { return conn, nil })
		ctx, _ := rpc.NewClientContext(context.Background())
		return func() {
			if got, _ := open(ctx); got != conn {
				t.Fatal("the stream was wrapped")
			}
		}
	})

	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	envelope := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(body)))
	envelope = append(envelope, body...)
	compare("handler unary", func(i twoSided) func() {
		h := rpc.NewUnaryHandler(specUnary, func(_ context.Context, r *sv) (*sv, error) { return r, nil }, rpc.WithHandlerInterceptors(i))
		return serveFunc(t, h, "application/proto", body)
	})
	compare("handler stream", func(i twoSided) func() {
		h := rpc.NewServerStreamHandler(specServer, func(_ context.Context, r *sv, s *rpc.ServerStream[sv]) error {
			return s.Send(r)
		}, rpc.WithHandlerInterceptors(i))
		return serveFunc(t, h, "application/connect+proto", envelope)
	})
}

// serveFunc returns a function that serves one Connect request with body
// to h, reusing the request and writer.
func serveFunc(t *testing.T, h http.Handler, contentType string, body []byte) func() {
	reader := bytes.NewReader(body)
	r, err := http.NewRequest(http.MethodPost, "http://example.test/x", reader)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Connect-Protocol-Version", "1")
	w := &discardWriter{h: make(http.Header)}
	return func() {
		reader.Reset(body)
		r.Body = io.NopCloser(reader)
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

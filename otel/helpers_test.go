package otelrpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

type sv = wrapperspb.StringValue

const (
	methodUnary  = "test.v1.TestService/Unary"
	methodServer = "test.v1.TestService/ServerStream"
	methodClient = "test.v1.TestService/ClientStream"
	methodBidi   = "test.v1.TestService/Bidi"
)

var (
	specUnary  = rpc.Spec{Procedure: "/" + methodUnary, StreamType: rpc.StreamTypeUnary}
	specServer = rpc.Spec{Procedure: "/" + methodServer, StreamType: rpc.StreamTypeServer}
	specClient = rpc.Spec{Procedure: "/" + methodClient, StreamType: rpc.StreamTypeClient}
	specBidi   = rpc.Spec{Procedure: "/" + methodBidi, StreamType: rpc.StreamTypeBidi}

	protocols = []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb}
)

// systemNames are the rpc.system.name values the conventions give each
// protocol.
var systemNames = map[rpc.Protocol]string{
	rpc.ProtocolConnect: "connectrpc",
	rpc.ProtocolGRPC:    "grpc",
	rpc.ProtocolGRPCWeb: "grpc",
}

// w3c is the propagator the tests use: trace context and baggage.
var w3c = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// telemetry is an OpenTelemetry SDK that keeps what it records in memory.
type telemetry struct {
	exporter *tracetest.InMemoryExporter
	tp       *sdktrace.TracerProvider
	reader   *sdkmetric.ManualReader
	mp       *sdkmetric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{exporter: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(tel.exporter))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(context.Background())
		_ = tel.mp.Shutdown(context.Background())
	})
	return tel
}

// options returns the interceptor options that record into tel, then extra.
func (tel *telemetry) options(extra ...otelrpc.Option) []otelrpc.Option {
	return append([]otelrpc.Option{
		otelrpc.WithTracerProvider(tel.tp),
		otelrpc.WithMeterProvider(tel.mp),
		otelrpc.WithPropagators(w3c),
	}, extra...)
}

func (tel *telemetry) interceptor(extra ...otelrpc.Option) *otelrpc.Interceptor {
	return otelrpc.NewInterceptor(tel.options(extra...)...)
}

// spans returns the ended spans.
func (tel *telemetry) spans() tracetest.SpanStubs { return tel.exporter.GetSpans() }

// waitSpans waits until n spans have ended and returns them. Spans of calls
// that a client abandons end on the server after the client has returned,
// so tests that cancel wait for them. The bound is generous: it only stops a
// broken test from hanging.
func (tel *telemetry) waitSpans(t *testing.T, n int) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		spans := tel.spans()
		if len(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spans ended, want %d: %v", len(spans), n, spanNames(spans))
		}
		time.Sleep(time.Millisecond)
	}
}

func spanNames(spans tracetest.SpanStubs) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name+"/"+s.SpanKind.String())
	}
	return names
}

// metrics collects the metrics recorded so far.
func (tel *telemetry) metrics(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// findMetric returns the metric named name, or fails.
func findMetric(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				if sm.Scope.Name != otelrpc.ScopeName {
					t.Errorf("metric %s in scope %q, want %q", name, sm.Scope.Name, otelrpc.ScopeName)
				}
				return m
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return metricdata.Metrics{}
}

// hasMetric reports whether a metric named name has data.
func hasMetric(rm metricdata.ResourceMetrics, name string) bool {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return true
			}
		}
	}
	return false
}

// durationPoints returns the data points of the duration histogram name,
// checking its unit.
func durationPoints(t *testing.T, rm metricdata.ResourceMetrics, name string) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	m := findMetric(t, rm, name)
	if m.Unit != "s" {
		t.Errorf("%s: unit %q, want s", name, m.Unit)
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s: data %T, want a float64 histogram", name, m.Data)
	}
	return h.DataPoints
}

// attrs is a span's or data point's attributes by key, values as strings.
type attrs map[attribute.Key]string

func attrsOf(kvs []attribute.KeyValue) attrs {
	m := make(attrs, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.Emit()
	}
	return m
}

// equal reports the differences between got and want; a want value of "*"
// accepts any value.
func (got attrs) diff(want attrs) []string {
	var d []string
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			d = append(d, "missing "+string(k)+"="+v)
		case v != "*" && g != v:
			d = append(d, string(k)+"="+g+", want "+v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			d = append(d, "unexpected "+string(k)+"="+v)
		}
	}
	return d
}

func checkAttrs(t *testing.T, what string, got []attribute.KeyValue, want attrs) {
	t.Helper()
	for _, d := range attrsOf(got).diff(want) {
		t.Errorf("%s: %s", what, d)
	}
}

// spanOf returns the one span with the given name and kind.
func spanOf(t *testing.T, spans tracetest.SpanStubs, name string, kind trace.SpanKind) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name && s.SpanKind == kind {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s spans named %s, want 1; spans: %v", len(found), kind, name, spanNames(spans))
	}
	return found[0]
}

// checkChild checks that child continues parent's trace, as a child.
func checkChild(t *testing.T, parent, child tracetest.SpanStub) {
	t.Helper()
	if child.SpanContext.TraceID() != parent.SpanContext.TraceID() {
		t.Errorf("%s %s: trace %s, want the trace of %s %s, %s", child.SpanKind, child.Name,
			child.SpanContext.TraceID(), parent.SpanKind, parent.Name, parent.SpanContext.TraceID())
	}
	if child.Parent.SpanID() != parent.SpanContext.SpanID() {
		t.Errorf("%s %s: parent span %s, want %s (%s %s)", child.SpanKind, child.Name,
			child.Parent.SpanID(), parent.SpanContext.SpanID(), parent.SpanKind, parent.Name)
	}
}

// codeFromRequest reads "code:N" requests: handlers fail them with code N.
func codeFromRequest(s string) (rpc.Code, bool) {
	rest, ok := strings.CutPrefix(s, "code:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil {
		return 0, false
	}
	return rpc.Code(n), true
}

func failWith(code rpc.Code) string { return "code:" + strconv.Itoa(int(code)) }

// service is the test service. Requests steer it:
//   - unary "code:N" fails with code N; "baggage" answers with the value
//     of the baggage member "k" on the handler's context; "header" sets
//     the response header X-Res and trailer X-Trl; else it echoes.
//   - server streaming: "N" sends N messages; "hold" sends one message then
//     waits for the call's context to end; "flood" sends until sending
//     fails; "code:N" fails after one. "hold" and "flood" put the handler
//     context's error on held when they end.
//   - client streaming counts the messages, failing with "code:N" if sent.
//   - bidi echoes each message until the client is done.
type service struct {
	// held is closed when a "hold" handler has sent its message; it
	// receives the error the handler returns.
	held chan error
}

func (s *service) mux(opts ...rpc.HandlerOption) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, s.unary, opts...))
	mux.Handle(specServer.Procedure, rpc.NewServerStreamHandler(specServer, s.serverStream, opts...))
	mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, s.clientStream, opts...))
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, s.bidi, opts...))
	return mux
}

func (s *service) unary(ctx context.Context, req *sv) (*sv, error) {
	if code, ok := codeFromRequest(req.Value); ok {
		return nil, rpc.NewError(code, "failed as asked")
	}
	switch req.Value {
	case "baggage":
		return wrapperspb.String(baggage.FromContext(ctx).Member("k").Value()), nil
	case "header":
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("X-Res", "res-value")
		info.ResponseTrailer().Set("X-Trl", "trl-value")
	}
	return req, nil
}

func (s *service) serverStream(ctx context.Context, req *sv, stream *rpc.ServerStream[sv]) error {
	if req.Value == "flood" {
		for {
			if err := stream.Send(wrapperspb.String("more")); err != nil {
				if s.held != nil {
					s.held <- ctx.Err()
				}
				return err
			}
		}
	}
	if req.Value == "hold" {
		if err := stream.Send(wrapperspb.String("first")); err != nil {
			return err
		}
		<-ctx.Done()
		err := ctx.Err()
		if s.held != nil {
			s.held <- err
		}
		return err
	}
	if code, ok := codeFromRequest(req.Value); ok {
		if err := stream.Send(wrapperspb.String("first")); err != nil {
			return err
		}
		return rpc.NewError(code, "failed as asked")
	}
	n, err := strconv.Atoi(req.Value)
	if err != nil {
		return rpc.NewError(rpc.CodeInvalidArgument, "want a number")
	}
	for i := range n {
		if err := stream.Send(wrapperspb.String(strconv.Itoa(i))); err != nil {
			return err
		}
	}
	return nil
}

func (s *service) clientStream(ctx context.Context, stream *rpc.ClientStream[sv]) (*sv, error) {
	n := 0
	for msg, err := range stream.All() {
		if err != nil {
			return nil, err
		}
		if code, ok := codeFromRequest(msg.Value); ok {
			return nil, rpc.NewError(code, "failed as asked")
		}
		n++
	}
	return wrapperspb.String(strconv.Itoa(n)), nil
}

func (s *service) bidi(ctx context.Context, stream *rpc.BidiStream[sv, sv]) error {
	for {
		msg, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}

// pair is a test server with the interceptor on its handlers and a way to
// make clients for it.
type pair struct {
	srv *rpctest.Server
	svc *service
	url string
}

func newPair(t *testing.T, handlerOpts ...rpc.HandlerOption) *pair {
	t.Helper()
	svc := &service{held: make(chan error, 1)}
	srv := rpctest.NewServer(t, svc.mux(handlerOpts...))
	// An explicit port, so that clients record server.port too.
	return &pair{srv: srv, svc: svc, url: srv.URL() + ":80"}
}

// host is server.address on clients of p.
func (p *pair) host() string { return strings.TrimPrefix(p.srv.URL(), "http://") }

func newClient[Req, Res any](p *pair, spec rpc.Spec, protocol rpc.Protocol, opts ...rpc.ClientOption) *rpc.Client[Req, Res] {
	opts = append([]rpc.ClientOption{rpc.WithProtocol(protocol)}, opts...)
	return rpc.NewClient[Req, Res](p.srv.HTTP2Client(), p.url, spec, opts...)
}

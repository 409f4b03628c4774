package otelrpc_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// WithoutProcedures leaves the named procedures alone on both sides, and
// instruments the others.
func TestWithoutProcedures(t *testing.T) {
	tel := newTelemetry(t)
	otel := tel.interceptor(otelrpc.WithoutProcedures(specUnary.Procedure))
	pr := newPair(t, rpc.WithHandlerInterceptors(otel))
	if _, err := newClient[sv, sv](pr, specUnary, rpc.ProtocolConnect, rpc.WithClientInterceptors(otel)).CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	if spans := tel.spans(); len(spans) != 0 {
		t.Errorf("skipped procedure made spans %v", spanNames(spans))
	}
	rm := tel.metrics(t)
	if hasMetric(rm, "rpc.client.call.duration") || hasMetric(rm, "rpc.server.call.duration") {
		t.Error("skipped procedure recorded metrics")
	}
	cstream, err := newClient[sv, sv](pr, specClient, rpc.ProtocolConnect, rpc.WithClientInterceptors(otel)).CallClientStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cstream.CloseAndReceive(); err != nil {
		t.Fatal(err)
	}
	spans := tel.spans()
	checkChild(t, spanOf(t, spans, methodClient, trace.SpanKindClient), spanOf(t, spans, methodClient, trace.SpanKindServer))
}

// A filter sees the call's context and Spec; a call it turns down is not
// traced and carries no trace context, so the handler starts a new trace.
func TestFilter(t *testing.T) {
	tel := newTelemetry(t)
	var seen []rpc.Spec
	type skipKey struct{}
	clientOtel := tel.interceptor(otelrpc.WithFilter(func(ctx context.Context, spec rpc.Spec) bool {
		seen = append(seen, spec)
		return ctx.Value(skipKey{}) == nil
	}))
	pr := newPair(t, rpc.WithHandlerInterceptors(tel.interceptor()))
	client := newClient[sv, sv](pr, specUnary, rpc.ProtocolGRPC, rpc.WithClientInterceptors(clientOtel))

	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "parent")
	if _, err := client.CallUnary(context.WithValue(ctx, skipKey{}, true), wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if len(seen) != 1 || seen[0].Procedure != specUnary.Procedure {
		t.Errorf("filter saw %+v", seen)
	}
	spans := tel.spans()
	if len(spans) != 2 {
		t.Fatalf("spans %v, want the parent and the server span", spanNames(spans))
	}
	ss := spanOf(t, spans, methodUnary, trace.SpanKindServer)
	ps := spanOf(t, spans, "parent", trace.SpanKindInternal)
	if ss.Parent.IsValid() || ss.SpanContext.TraceID() == ps.SpanContext.TraceID() {
		t.Error("a filtered call propagated its trace context")
	}

	tel.exporter.Reset()
	if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	if n := len(tel.spans()); n != 2 {
		t.Errorf("a call the filter lets through made %d spans, want 2", n)
	}
}

package otelrpc_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// An attribute filter removes attributes from spans (at start and end) and
// from metrics, on both sides, and leaves the rest.
func TestAttributeFilter(t *testing.T) {
	tel := newTelemetry(t)
	noAddress := otelrpc.WithAttributeFilter(func(kv attribute.KeyValue) bool {
		return !strings.HasPrefix(string(kv.Key), "server.") && !strings.HasPrefix(string(kv.Key), "network.")
	})
	otel := tel.interceptor(noAddress, otelrpc.WithServerAddressMetrics(), otelrpc.WithMessageMetrics())
	pr := newPair(t, rpc.WithHandlerInterceptors(otel))
	client := newClient[sv, sv](pr, specUnary, rpc.ProtocolGRPC, rpc.WithClientInterceptors(otel))
	if _, err := client.CallUnary(context.Background(), wrapperspb.String(failWith(rpc.CodeNotFound))); rpc.CodeOf(err) != rpc.CodeNotFound {
		t.Fatal(err)
	}
	spans := tel.spans()
	if len(spans) != 2 {
		t.Fatalf("spans %v", spanNames(spans))
	}
	base := attrs{"rpc.system.name": "grpc", "rpc.method": methodUnary, "rpc.response.status_code": "NOT_FOUND"}
	checkAttrs(t, "server span", spanOf(t, spans, methodUnary, trace.SpanKindServer).Attributes, base)
	clientWant := attrs{"error.type": "NOT_FOUND"}
	for k, v := range base {
		clientWant[k] = v
	}
	checkAttrs(t, "client span", spanOf(t, spans, methodUnary, trace.SpanKindClient).Attributes, clientWant)
	rm := tel.metrics(t)
	for name, want := range map[string]attrs{"rpc.client.call.duration": clientWant, "rpc.server.call.duration": base} {
		points := durationPoints(t, rm, name)
		if len(points) != 1 {
			t.Fatalf("%s: %d points", name, len(points))
		}
		checkAttrs(t, name, points[0].Attributes.ToSlice(), want)
	}
	for _, p := range findMetric(t, rm, "rpc.client.request.size").Data.(metricdata.Histogram[int64]).DataPoints {
		// Message metrics have the call's attributes known at its start.
		checkAttrs(t, "rpc.client.request.size", p.Attributes.ToSlice(), attrs{"rpc.system.name": "grpc", "rpc.method": methodUnary})
	}
}

// WithoutTracing records metrics and no spans, and the caller's trace
// context still reaches the handler; WithoutMetrics the other way round.
func TestTracingOrMetricsAlone(t *testing.T) {
	tel := newTelemetry(t)
	serverOtel := tel.interceptor()
	pr := newPair(t, rpc.WithHandlerInterceptors(serverOtel))
	// WithoutTracing before the options that set the tracer provider: it
	// still wins.
	clientOtel := otelrpc.NewInterceptor(append([]otelrpc.Option{otelrpc.WithoutTracing()}, tel.options()...)...)
	client := newClient[sv, sv](pr, specUnary, rpc.ProtocolConnect, rpc.WithClientInterceptors(clientOtel))
	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "parent")
	if _, err := client.CallUnary(ctx, wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := tel.spans()
	if len(spans) != 2 {
		t.Fatalf("spans %v, want the parent and the server span", spanNames(spans))
	}
	checkChild(t, spanOf(t, spans, "parent", trace.SpanKindInternal), spanOf(t, spans, methodUnary, trace.SpanKindServer))
	rm := tel.metrics(t)
	if len(durationPoints(t, rm, "rpc.client.call.duration")) != 1 {
		t.Error("WithoutTracing: no client metric")
	}

	tel = newTelemetry(t)
	otel := tel.interceptor(otelrpc.WithoutMetrics())
	pr = newPair(t, rpc.WithHandlerInterceptors(otel))
	client = newClient[sv, sv](pr, specUnary, rpc.ProtocolConnect, rpc.WithClientInterceptors(otel))
	if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	if n := len(tel.spans()); n != 2 {
		t.Errorf("WithoutMetrics: %d spans, want 2", n)
	}
	rm = tel.metrics(t)
	if hasMetric(rm, "rpc.client.call.duration") || hasMetric(rm, "rpc.server.call.duration") {
		t.Error("WithoutMetrics recorded metrics")
	}
}

type internalKey struct{}

// WithPublicEndpointFunc trusts the callers it says are not public: their
// handler spans continue the caller's trace; the others start a new trace
// linked to the caller's span, without the caller's baggage.
func TestPublicEndpointFunc(t *testing.T) {
	tel := newTelemetry(t)
	var seen []string
	public := otelrpc.WithPublicEndpointFunc(func(ctx context.Context, spec rpc.Spec) bool {
		info, _ := rpc.HandlerCallInfo(ctx)
		seen = append(seen, spec.Procedure)
		return info.RequestHeader().Get("X-Internal") == ""
	})
	pr := newPair(t, rpc.WithHandlerInterceptors(tel.interceptor(public)))
	client := newClient[sv, sv](pr, specUnary, rpc.ProtocolGRPCWeb, rpc.WithClientInterceptors(tel.interceptor()))
	member, _ := baggage.NewMember("k", "from-caller")
	bag, _ := baggage.New(member)
	for _, internal := range []bool{true, false} {
		tel.exporter.Reset()
		ctx := baggage.ContextWithBaggage(context.Background(), bag)
		ctx, info := rpc.NewClientContext(ctx)
		if internal {
			info.RequestHeader().Set("X-Internal", "1")
		}
		res, err := client.CallUnary(ctx, wrapperspb.String("baggage"))
		if err != nil {
			t.Fatal(err)
		}
		spans := tel.spans()
		cs, ss := spanOf(t, spans, methodUnary, trace.SpanKindClient), spanOf(t, spans, methodUnary, trace.SpanKindServer)
		if internal {
			checkChild(t, cs, ss)
			if res.Value != "from-caller" {
				t.Errorf("trusted caller: baggage %q", res.Value)
			}
			continue
		}
		if ss.Parent.IsValid() || ss.SpanContext.TraceID() == cs.SpanContext.TraceID() {
			t.Error("public caller: the server span continues the caller's trace")
		}
		if len(ss.Links) != 1 || ss.Links[0].SpanContext.SpanID() != cs.SpanContext.SpanID() {
			t.Errorf("public caller: links %+v, want the client span", ss.Links)
		}
		if res.Value != "" {
			t.Errorf("public caller: baggage %q reached the handler", res.Value)
		}
	}
	if len(seen) != 2 || seen[0] != specUnary.Procedure {
		t.Errorf("the function saw %v", seen)
	}
}

// WithResponsePropagation puts the handler span's trace context in the
// response headers, without the caller's baggage, on every protocol, for
// a caller that traces nothing.
func TestResponsePropagation(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tel := newTelemetry(t)
			pr := newPair(t, rpc.WithHandlerInterceptors(tel.interceptor(otelrpc.WithResponsePropagation())))
			member, _ := baggage.NewMember("k", "v")
			bag, _ := baggage.New(member)
			ctx, info := rpc.NewClientContext(context.Background())
			info.RequestHeader().Set("Baggage", bag.String())
			for _, spec := range []rpc.Spec{specUnary, specServer} {
				var header http.Header
				if spec.StreamType == rpc.StreamTypeServer {
					stream, err := newClient[sv, sv](pr, spec, p).CallServerStream(ctx, wrapperspb.String("1"))
					if err != nil {
						t.Fatal(err)
					}
					for _, err := range stream.All() {
						if err != nil {
							t.Fatal(err)
						}
					}
					header = stream.ResponseHeader()
				} else {
					if _, err := newClient[sv, sv](pr, spec, p).CallUnary(ctx, wrapperspb.String("hi")); err != nil {
						t.Fatal(err)
					}
					header = info.ResponseHeader()
				}
				tp := header.Get("Traceparent")
				ss := tel.waitSpans(t, 1)[0]
				if !strings.Contains(tp, ss.SpanContext.TraceID().String()) || !strings.Contains(tp, ss.SpanContext.SpanID().String()) {
					t.Errorf("%s: traceparent %q, want the server span %s", spec.Procedure, tp, ss.SpanContext.SpanID())
				}
				if b := header.Get("Baggage"); b != "" {
					t.Errorf("%s: baggage %q sent back", spec.Procedure, b)
				}
				tel.exporter.Reset()
			}
		})
	}
}

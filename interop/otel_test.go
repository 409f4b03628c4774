package interop

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// Trace propagation between polyconnect with otelrpc and connect-go with
// otelconnect: a trace that one side starts continues on the other, with
// the same trace ID and the caller's span as the parent, on the Connect,
// gRPC and gRPC-Web protocols, for unary and server-streaming calls. Both
// sides record into one in-memory SDK, so the spans can be compared.

var w3cPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

type otelSDK struct {
	exporter *tracetest.InMemoryExporter
	tp       *sdktrace.TracerProvider
}

func newOtelSDK(t *testing.T) *otelSDK {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &otelSDK{exporter: exp, tp: tp}
}

// span returns the one span from scope with the given kind and name.
func (s *otelSDK) span(t *testing.T, scope string, kind trace.SpanKind, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, span := range s.exporter.GetSpans() {
		if span.InstrumentationScope.Name == scope && span.SpanKind == kind && span.Name == name {
			found = append(found, span)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s spans %q from %s, want 1; all spans: %v", len(found), kind, name, scope, s.exporter.GetSpans().Snapshots())
	}
	return found[0]
}

const otelconnectScope = "connectrpc.com/otelconnect"

// otelProtocols pairs our protocol names with connect-go's client options.
var otelProtocols = []struct {
	name     string
	ours     rpc.Protocol
	theirs   []connect.ClientOption
	expected string // rpc.system.name
}{
	{"connect", rpc.ProtocolConnect, nil, "connectrpc"},
	{"grpc", rpc.ProtocolGRPC, []connect.ClientOption{connect.WithGRPC()}, "grpc"},
	{"grpcweb", rpc.ProtocolGRPCWeb, []connect.ClientOption{connect.WithGRPCWeb()}, "grpc"},
}

func checkContinues(t *testing.T, parent, child tracetest.SpanStub) {
	t.Helper()
	if child.SpanContext.TraceID() != parent.SpanContext.TraceID() {
		t.Errorf("%s span of %s: trace %s, want %s, the trace of the %s span of %s",
			child.SpanKind, child.InstrumentationScope.Name, child.SpanContext.TraceID(),
			parent.SpanContext.TraceID(), parent.SpanKind, parent.InstrumentationScope.Name)
	}
	if child.Parent.SpanID() != parent.SpanContext.SpanID() || !child.Parent.IsRemote() {
		t.Errorf("%s span of %s: parent %s (remote %v), want the remote span %s",
			child.SpanKind, child.InstrumentationScope.Name, child.Parent.SpanID(), child.Parent.IsRemote(), parent.SpanContext.SpanID())
	}
}

// attributeMap returns a span's attributes, without the keys in skip.
func attributeMap(kvs []attribute.KeyValue, skip ...attribute.Key) map[attribute.Key]string {
	m := make(map[attribute.Key]string)
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.Emit()
	}
	for _, k := range skip {
		delete(m, k)
	}
	return m
}

func sameAttributes(t *testing.T, what string, ours, theirs map[attribute.Key]string) {
	t.Helper()
	for k, v := range theirs {
		if ours[k] != v {
			t.Errorf("%s: otelconnect records %s=%q, we record %q", what, k, v, ours[k])
		}
	}
	for k, v := range ours {
		if _, ok := theirs[k]; !ok {
			t.Errorf("%s: we record %s=%q, otelconnect does not", what, k, v)
		}
	}
}

// baggageEcho answers with the value of the baggage member "k".
func baggageEcho(ctx context.Context) string { return baggage.FromContext(ctx).Member("k").Value() }

func withBaggage(ctx context.Context) context.Context {
	m, _ := baggage.NewMember("k", "from-caller")
	b, _ := baggage.New(m)
	return baggage.ContextWithBaggage(ctx, b)
}

// TestOtelconnectClientTraceContinuesInPolyconnect: connect-go's client with
// otelconnect calls our handlers with otelrpc.
func TestOtelconnectClientTraceContinuesInPolyconnect(t *testing.T) {
	sdk := newOtelSDK(t)
	ours := otelrpc.Telemetry(otelrpc.WithTracerProvider(sdk.tp), otelrpc.WithPropagators(w3cPropagator))
	mux := http.NewServeMux()
	mux.Handle(procUnary, rpc.NewUnaryHandler(rpc.Spec{Procedure: procUnary}, func(ctx context.Context, req *sv) (*sv, error) {
		return wrapperspb.String(baggageEcho(ctx)), nil
	}, ours))
	mux.Handle(procServer, rpc.NewServerStreamHandler(rpc.Spec{Procedure: procServer}, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		return s.Send(wrapperspb.String(baggageEcho(ctx)))
	}, ours))
	url, hc := transports[1].start(t, mux) // h2c: all three protocols

	theirs, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(sdk.tp), otelconnect.WithPropagator(w3cPropagator))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range otelProtocols {
		t.Run(p.name, func(t *testing.T) {
			sdk.exporter.Reset()
			opts := append([]connect.ClientOption{connect.WithInterceptors(theirs)}, p.theirs...)
			unary := connect.NewClient[sv, sv](hc, url+procUnary, opts...)
			res, err := unary.CallUnary(withBaggage(context.Background()), connect.NewRequest(wrapperspb.String("hi")))
			if err != nil {
				t.Fatal(err)
			}
			if res.Msg.Value != "from-caller" {
				t.Errorf("our handler saw baggage %q", res.Msg.Value)
			}
			name := procUnary[1:]
			client := sdk.span(t, otelconnectScope, trace.SpanKindClient, name)
			server := sdk.span(t, otelrpc.ScopeName, trace.SpanKindServer, name)
			checkContinues(t, client, server)
			if got := attributeMap(server.Attributes)["rpc.system.name"]; got != p.expected {
				t.Errorf("our server span: rpc.system.name %q, want %q", got, p.expected)
			}

			stream, err := connect.NewClient[sv, sv](hc, url+procServer, opts...).CallServerStream(withBaggage(context.Background()), connect.NewRequest(wrapperspb.String("hi")))
			if err != nil {
				t.Fatal(err)
			}
			for stream.Receive() {
				if v := stream.Msg().Value; v != "from-caller" {
					t.Errorf("our streaming handler saw baggage %q", v)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			_ = stream.Close()
			checkContinues(t,
				sdk.span(t, otelconnectScope, trace.SpanKindClient, procServer[1:]),
				sdk.span(t, otelrpc.ScopeName, trace.SpanKindServer, procServer[1:]))
		})
	}
}

// TestPolyconnectClientTraceContinuesInOtelconnect: our client with otelrpc
// calls connect-go's handlers with otelconnect (told to trust the caller's
// trace context, as an internal service would be).
func TestPolyconnectClientTraceContinuesInOtelconnect(t *testing.T) {
	sdk := newOtelSDK(t)
	theirs, err := otelconnect.NewInterceptor(
		otelconnect.WithTracerProvider(sdk.tp),
		otelconnect.WithPropagator(w3cPropagator),
		otelconnect.WithTrustRemote(),
	)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(procUnary, connect.NewUnaryHandler(procUnary, func(ctx context.Context, req *connect.Request[sv]) (*connect.Response[sv], error) {
		return connect.NewResponse(wrapperspb.String(baggageEcho(ctx))), nil
	}, connect.WithInterceptors(theirs)))
	mux.Handle(procServer, connect.NewServerStreamHandler(procServer, func(ctx context.Context, req *connect.Request[sv], s *connect.ServerStream[sv]) error {
		return s.Send(wrapperspb.String(baggageEcho(ctx)))
	}, connect.WithInterceptors(theirs)))
	url, hc := transports[1].start(t, mux)

	ours := otelrpc.Telemetry(otelrpc.WithTracerProvider(sdk.tp), otelrpc.WithPropagators(w3cPropagator))
	for _, p := range otelProtocols {
		t.Run(p.name, func(t *testing.T) {
			sdk.exporter.Reset()
			unary := rpc.NewClient[sv, sv](hc, url, rpc.Spec{Procedure: procUnary}, rpc.WithProtocol(p.ours), ours)
			res, err := unary.CallUnary(withBaggage(context.Background()), wrapperspb.String("hi"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Value != "from-caller" {
				t.Errorf("connect-go's handler saw baggage %q", res.Value)
			}
			name := procUnary[1:]
			client := sdk.span(t, otelrpc.ScopeName, trace.SpanKindClient, name)
			server := sdk.span(t, otelconnectScope, trace.SpanKindServer, name)
			checkContinues(t, client, server)

			stream, err := rpc.NewClient[sv, sv](hc, url, rpc.Spec{Procedure: procServer, StreamType: rpc.StreamTypeServer}, rpc.WithProtocol(p.ours), ours).
				CallServerStream(withBaggage(context.Background()), wrapperspb.String("hi"))
			if err != nil {
				t.Fatal(err)
			}
			for msg, err := range stream.All() {
				if err != nil {
					t.Fatal(err)
				}
				if msg.Value != "from-caller" {
					t.Errorf("connect-go's streaming handler saw baggage %q", msg.Value)
				}
			}
			checkContinues(t,
				sdk.span(t, otelrpc.ScopeName, trace.SpanKindClient, procServer[1:]),
				sdk.span(t, otelconnectScope, trace.SpanKindServer, procServer[1:]))
		})
	}
}

// TestOtelAttributesMatchOtelconnect: for the same successful and failed
// calls, our client spans carry the attributes otelconnect's do, and our
// server spans too, apart from the peer address, which otelconnect records
// only when asked.
func TestOtelAttributesMatchOtelconnect(t *testing.T) {
	sdk := newOtelSDK(t)
	fail := errors.New("told to fail")
	theirs, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(sdk.tp), otelconnect.WithPropagator(w3cPropagator))
	if err != nil {
		t.Fatal(err)
	}
	ours := otelrpc.Telemetry(otelrpc.WithTracerProvider(sdk.tp), otelrpc.WithPropagators(w3cPropagator))

	theirMux := http.NewServeMux()
	theirMux.Handle(procUnary, connect.NewUnaryHandler(procUnary, func(ctx context.Context, req *connect.Request[sv]) (*connect.Response[sv], error) {
		if req.Msg.Value == "fail" {
			return nil, connect.NewError(connect.CodeInternal, fail)
		}
		return connect.NewResponse(req.Msg), nil
	}, connect.WithInterceptors(theirs)))
	theirURL, hc := transports[1].start(t, theirMux)
	ourMux := http.NewServeMux()
	ourMux.Handle(procUnary, rpc.NewUnaryHandler(rpc.Spec{Procedure: procUnary}, func(ctx context.Context, req *sv) (*sv, error) {
		if req.Value == "fail" {
			return nil, rpc.NewError(rpc.CodeInternal, fail.Error())
		}
		return req, nil
	}, ours))
	ourURL, _ := transports[1].start(t, ourMux)

	name := procUnary[1:]
	for _, p := range otelProtocols {
		for _, value := range []string{"ok", "fail"} {
			t.Run(p.name+"/"+value, func(t *testing.T) {
				// Their client and server.
				sdk.exporter.Reset()
				opts := append([]connect.ClientOption{connect.WithInterceptors(theirs)}, p.theirs...)
				_, err := connect.NewClient[sv, sv](hc, theirURL+procUnary, opts...).CallUnary(context.Background(), connect.NewRequest(wrapperspb.String(value)))
				if (err != nil) != (value == "fail") {
					t.Fatal(err)
				}
				theirClient := sdk.span(t, otelconnectScope, trace.SpanKindClient, name)
				theirServer := sdk.span(t, otelconnectScope, trace.SpanKindServer, name)

				// Ours.
				sdk.exporter.Reset()
				_, err = rpc.NewClient[sv, sv](hc, ourURL, rpc.Spec{Procedure: procUnary}, rpc.WithProtocol(p.ours), ours).CallUnary(context.Background(), wrapperspb.String(value))
				if (err != nil) != (value == "fail") {
					t.Fatal(err)
				}
				ourClient := sdk.span(t, otelrpc.ScopeName, trace.SpanKindClient, name)
				ourServer := sdk.span(t, otelrpc.ScopeName, trace.SpanKindServer, name)

				// The servers listen on different ports. Our server spans
				// also carry the peer (network.peer.*) and the authority the
				// call was addressed to (server.*, from the Host header),
				// which the conventions list for server spans and otelconnect
				// leaves out.
				sameAttributes(t, "client span",
					attributeMap(ourClient.Attributes, "server.port"), attributeMap(theirClient.Attributes, "server.port"))
				sameAttributes(t, "server span",
					attributeMap(ourServer.Attributes, "network.peer.address", "network.peer.port", "server.address", "server.port"), attributeMap(theirServer.Attributes))
				if ourClient.Status.Code != theirClient.Status.Code || ourServer.Status.Code != theirServer.Status.Code {
					t.Errorf("statuses: ours %v/%v, otelconnect's %v/%v", ourClient.Status, ourServer.Status, theirClient.Status, theirServer.Status)
				}
			})
		}
	}
}

package otelrpc_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// Leave the server's address out of every span and metric, on a service
// whose host names are nobody's business.
func ExampleWithAttributeFilter() {
	telemetry := otelrpc.Telemetry(otelrpc.WithAttributeFilter(func(kv attribute.KeyValue) bool {
		return !strings.HasPrefix(string(kv.Key), "server.")
	}))
	_ = rpc.NewUnaryHandler(rpc.Spec{Procedure: "/greet.v1.GreetService/Greet"}, greet, telemetry)
}

// Metrics only on a busy internal service whose traces are sampled
// elsewhere; the trace context still travels through it.
func ExampleWithoutTracing() {
	_ = rpc.NewUnaryHandler(rpc.Spec{Procedure: "/greet.v1.GreetService/Greet"}, greet,
		otelrpc.Telemetry(otelrpc.WithoutTracing()))
}

// Tracing only.
func ExampleWithoutMetrics() {
	_ = rpc.NewUnaryHandler(rpc.Spec{Procedure: "/greet.v1.GreetService/Greet"}, greet,
		otelrpc.Telemetry(otelrpc.WithoutMetrics()))
}

// Continue the traces of callers on the private network; start a new,
// linked trace for everybody else.
func ExampleWithPublicEndpointFunc() {
	_, private, _ := net.ParseCIDR("10.0.0.0/8")
	public := func(ctx context.Context, _ rpc.Spec) bool {
		info, _ := rpc.HandlerCallInfo(ctx)
		host, _, err := net.SplitHostPort(info.Peer().Addr)
		ip := net.ParseIP(host)
		return err != nil || ip == nil || !private.Contains(ip)
	}
	_ = rpc.NewUnaryHandler(rpc.Spec{Procedure: "/greet.v1.GreetService/Greet"}, greet,
		otelrpc.Telemetry(otelrpc.WithPublicEndpointFunc(public)))
}

// Record server.address on the server's metrics, for a server behind a
// proxy that sets the Host header itself.
func ExampleWithServerAddressMetrics() {
	_ = rpc.NewUnaryHandler(rpc.Spec{Procedure: "/greet.v1.GreetService/Greet"}, greet,
		otelrpc.Telemetry(otelrpc.WithServerAddressMetrics()))
}

// A caller that traces nothing (a browser, curl) learns from the response
// headers which trace its call was recorded in.
func ExampleWithResponsePropagation() {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	spec := rpc.Spec{Procedure: "/greet.v1.GreetService/Greet"}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, greet, otelrpc.Telemetry(
		otelrpc.WithTracerProvider(tp),
		otelrpc.WithPropagators(propagation.TraceContext{}),
		otelrpc.WithResponsePropagation(),
	)))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	ctx, info := rpc.NewClientContext(context.Background())
	if _, err := client.CallUnary(ctx, wrapperspb.String("Ada")); err != nil {
		log.Fatal(err)
	}
	traceparent := info.ResponseHeader().Get("Traceparent")
	fmt.Println("traceparent:", len(traceparent) == 55 && strings.HasPrefix(traceparent, "00-"))
	// Output:
	// traceparent: true
}

func greet(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return wrapperspb.String("Hello, " + req.Value + "!"), nil
}

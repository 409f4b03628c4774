package otelrpc_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// Tracing for a client and a handler, one option each. A real program sets
// up its tracer provider (an OTLP exporter, say) and the W3C propagator
// globally with otel.SetTracerProvider and otel.SetTextMapPropagator, then
// passes otelrpc.Telemetry() alone; this example records into memory
// instead, to show the spans.
func Example() {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	telemetry := otelrpc.Telemetry(
		otelrpc.WithTracerProvider(tp),
		otelrpc.WithPropagators(propagation.TraceContext{}),
	)

	spec := rpc.Spec{Procedure: "/greet.v1.GreetService/Greet"}
	greet := func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return wrapperspb.String("Hello, " + req.Value + "!"), nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, greet, telemetry))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec, telemetry)
	res, err := client.CallUnary(context.Background(), wrapperspb.String("Ada"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Value)
	spans := exporter.GetSpans()
	for _, s := range spans {
		fmt.Println(s.SpanKind, s.Name)
	}
	fmt.Println("one trace:", spans[0].SpanContext.TraceID() == spans[1].SpanContext.TraceID())
	// Output:
	// Hello, Ada!
	// server greet.v1.GreetService/Greet
	// client greet.v1.GreetService/Greet
	// one trace: true
}

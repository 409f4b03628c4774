// Command observability shows logging and tracing added to a polyconnect
// client and handler with one option each: rpc.WithHandlerInterceptors(
// logging.New(logger)) (rpc.WithClientInterceptors on the client) from
// polyconnect.dev/interceptors and otelrpc.Telemetry() from
// polyconnect.dev/otel, placed before an authentication check. It serves the
// greet service over h2c on loopback, makes a few calls inside a span of its
// own (a unary call, a server stream, a call the handler rejects, a call
// without credentials that the check refuses before reading its request)
// over Connect, gRPC and gRPC-Web, and prints the log records, the trace as a
// tree and the call-duration metrics the SDK collected.
//
//	go run ./examples/cmd/observability
//
// A real program sets up an exporter (OTLP, say) where this one prints.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	greetv1 "polyconnect.dev/examples/gen/greet/v1"
	"polyconnect.dev/examples/gen/greet/v1/greetv1rpc"
	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/logging"
	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "observability:", err)
		os.Exit(1)
	}
}

// greeter implements greetv1rpc.GreetServiceHandler.
type greeter struct {
	greetv1rpc.UnimplementedGreetServiceHandler
}

func (greeter) Greet(ctx context.Context, req *greetv1.GreetRequest) (*greetv1.GreetResponse, error) {
	if req.Name == "" {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "name is required")
	}
	return &greetv1.GreetResponse{Greeting: "Hello, " + req.Name + "!"}, nil
}

func (greeter) GreetMany(ctx context.Context, req *greetv1.GreetRequest, stream *rpc.ServerStream[greetv1.GreetResponse]) error {
	for i := 1; i <= 2; i++ {
		if err := stream.Send(&greetv1.GreetResponse{Greeting: fmt.Sprintf("Hello #%d, %s!", i, req.Name)}); err != nil {
			return err
		}
	}
	return nil
}

func run(out io.Writer) error {
	// Once per program: where spans and metrics go, and the W3C propagator.
	spans := &collector{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	defer func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	}()

	// Log records go to out, without the parts that change from run to
	// run (time, duration, client port).
	fmt.Fprintln(out, "log:")
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{ReplaceAttr: stableLog}))

	// The handler: one option for logging, one for tracing and metrics,
	// then the credentials check. It refuses a call before its request is
	// read; logging and tracing, placed before it, still record the call.
	check := func(_ context.Context, req *auth.Request) (any, error) {
		if token, _ := req.BearerToken(); token != "let-me-in" {
			return nil, rpc.NewError(rpc.CodeUnauthenticated, "a valid bearer token is required")
		}
		return "ada", nil
	}
	mux := http.NewServeMux()
	mux.Handle(greetv1rpc.NewGreetServiceHandler(greeter{},
		rpc.WithHandlerInterceptors(logging.New(logger)),
		otelrpc.Telemetry(),
		rpc.WithHandlerInterceptors(auth.NewServer(check)),
	))
	srv, err := h2.NewServer(transport.Config{Name: h2.NameH2C, Addr: "127.0.0.1:0"}, mux)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	hc, err := h2.NewClient(transport.Config{Name: h2.NameH2C})
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()

	ctx, span := otel.Tracer("tracing-example").Start(context.Background(), "greet everyone")
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		// The client: the same two options, and credentials.
		observed := []rpc.ClientOption{rpc.WithProtocol(p), rpc.WithClientInterceptors(logging.New(logger)), otelrpc.Telemetry()}
		client := greetv1rpc.NewGreetServiceClient(hc, srv.URL(),
			append(observed, rpc.WithClientInterceptors(auth.NewClient(auth.Bearer("let-me-in"))))...)
		if _, err := client.Greet(ctx, &greetv1.GreetRequest{Name: "Ada"}); err != nil {
			return fmt.Errorf("%v: Greet: %w", p, err)
		}
		stream, err := client.GreetMany(ctx, &greetv1.GreetRequest{Name: "Ken"})
		if err != nil {
			return fmt.Errorf("%v: GreetMany: %w", p, err)
		}
		for _, err := range stream.All() {
			if err != nil {
				return fmt.Errorf("%v: GreetMany: %w", p, err)
			}
		}
		if _, err := client.Greet(ctx, &greetv1.GreetRequest{}); rpc.CodeOf(err) != rpc.CodeInvalidArgument {
			return fmt.Errorf("%v: Greet without a name: %v, want invalid_argument", p, err)
		}
		anonymous := greetv1rpc.NewGreetServiceClient(hc, srv.URL(), observed...)
		if _, err := anonymous.Greet(ctx, &greetv1.GreetRequest{Name: "Eve"}); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
			return fmt.Errorf("%v: Greet without credentials: %v, want unauthenticated", p, err)
		}
	}
	span.End()

	fmt.Fprintln(out, "\nspans:")
	spans.print(out)
	fmt.Fprintln(out, "\nmetrics:")
	return printMetrics(out, reader)
}

// stableLog drops the attributes of a log record that differ between runs.
func stableLog(_ []string, a slog.Attr) slog.Attr {
	switch a.Key {
	case slog.TimeKey, "rpc.duration", "rpc.peer":
		return slog.Attr{}
	}
	return a
}

// collector is a span exporter that keeps the spans, to print them.
type collector struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (c *collector) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans = append(c.spans, spans...)
	return nil
}

func (c *collector) Shutdown(context.Context) error { return nil }

// shown are the attributes printed for each span.
var shown = []attribute.Key{"rpc.system.name", "rpc.response.status_code", "error.type"}

// print writes the spans as a tree, children in start order.
func (c *collector) print(out io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	children := make(map[trace.SpanID][]sdktrace.ReadOnlySpan)
	var roots []sdktrace.ReadOnlySpan
	for _, s := range c.spans {
		if s.Parent().IsValid() {
			children[s.Parent().SpanID()] = append(children[s.Parent().SpanID()], s)
		} else {
			roots = append(roots, s)
		}
	}
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		var attrs []string
		for _, kv := range s.Attributes() {
			if slices.Contains(shown, kv.Key) {
				attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit())
			}
		}
		slices.Sort(attrs)
		status := ""
		if s.Status().Code.String() == "Error" {
			status = " ERROR(" + s.Status().Description + ")"
		}
		fmt.Fprintf(out, "%s%s %s [%s]%s\n", strings.Repeat("  ", depth+1), s.SpanKind(), s.Name(), strings.Join(attrs, " "), status)
		kids := children[s.SpanContext().SpanID()]
		slices.SortFunc(kids, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		fmt.Fprintf(out, "  trace %s\n", r.SpanContext().TraceID())
		walk(r, 1)
	}
}

// printMetrics writes the number of calls in each series of the duration
// histograms.
func printMetrics(out io.Writer, reader *sdkmetric.ManualReader) error {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		return err
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				continue
			}
			for _, dp := range h.DataPoints {
				var attrs []string
				for _, kv := range dp.Attributes.ToSlice() {
					if kv.Key != "server.address" && kv.Key != "server.port" {
						attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit())
					}
				}
				lines = append(lines, fmt.Sprintf("  %s (%s) %s: %d calls", m.Name, m.Unit, strings.Join(attrs, " "), dp.Count))
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	return nil
}

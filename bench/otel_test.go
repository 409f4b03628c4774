package bench

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/gen/bench/v1/benchv1connect"
	"polyconnect.dev/bench/gen/bench/v1/benchv1rpc"
	"polyconnect.dev/bench/internal/harness"
	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// The cost of tracing and metrics: polyconnect with otelrpc next to
// connect-go with otelconnect, one side of a unary call of 100 bytes each
// way at a time, in process, exactly as BenchmarkServerAllocs and
// BenchmarkClientAllocs measure the same calls without telemetry (the
// baseline to subtract).
//
//   - BenchmarkOtelNoopServer, BenchmarkOtelNoopClient: the interceptors
//     with no-op tracer and meter providers, what a program that links
//     tracing in but has not switched it on pays. The requests carry no
//     trace context.
//   - BenchmarkOtelSDKServer, BenchmarkOtelSDKClient: the OpenTelemetry
//     SDK, every span sampled and handed to a batch processor whose
//     exporter discards, metrics aggregated by a manual reader, the W3C
//     trace context and baggage propagators. Requests to the server carry a
//     traceparent, as a traced client's do, and both servers continue that
//     trace (otelconnect is told WithTrustRemote, otelrpc does it by
//     default).
//
// The names follow the other benchmarks, so that cmd/benchtable puts
// polyconnect and connect-go side by side per scenario and protocol.

// telemetryTargets are the implementations with an OpenTelemetry
// interceptor: polyconnect and connect-go, each protocol.
var telemetryTargets = []allocTarget{
	{harness.ImplPolyconnect, harness.ProtocolConnect},
	{harness.ImplPolyconnect, harness.ProtocolGRPC},
	{harness.ImplPolyconnect, harness.ProtocolGRPCWeb},
	{harness.ImplConnectGo, harness.ProtocolConnect},
	{harness.ImplConnectGo, harness.ProtocolGRPC},
	{harness.ImplConnectGo, harness.ProtocolGRPCWeb},
}

// sampledParent is the traceparent of the SDK server benchmarks' requests.
const sampledParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// telemetrySetup is one way of configuring both interceptors.
type telemetrySetup struct {
	sdk        bool
	tp         trace.TracerProvider
	mp         metric.MeterProvider
	propagator propagation.TextMapPropagator
}

func newTelemetrySetup(b *testing.B, sdk bool) telemetrySetup {
	b.Helper()
	w3c := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	if !sdk {
		return telemetrySetup{tp: tracenoop.NewTracerProvider(), mp: metricnoop.NewMeterProvider(), propagator: w3c}
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(discardExporter{}),
	)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return telemetrySetup{sdk: true, tp: tp, mp: mp, propagator: w3c}
}

// discardExporter exports spans nowhere.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

func (s telemetrySetup) otelrpc() rpc.Option {
	return otelrpc.Telemetry(
		otelrpc.WithTracerProvider(s.tp),
		otelrpc.WithMeterProvider(s.mp),
		otelrpc.WithPropagators(s.propagator),
	)
}

func (s telemetrySetup) otelconnect(b *testing.B, server bool) connect.Option {
	b.Helper()
	opts := []otelconnect.Option{
		otelconnect.WithTracerProvider(s.tp),
		otelconnect.WithMeterProvider(s.mp),
		otelconnect.WithPropagator(s.propagator),
	}
	if server {
		opts = append(opts, otelconnect.WithTrustRemote())
	}
	i, err := otelconnect.NewInterceptor(opts...)
	if err != nil {
		b.Fatal(err)
	}
	return connect.WithInterceptors(i)
}

func BenchmarkOtelNoopServer(b *testing.B) { benchmarkOtelServer(b, false) }
func BenchmarkOtelSDKServer(b *testing.B)  { benchmarkOtelServer(b, true) }
func BenchmarkOtelNoopClient(b *testing.B) { benchmarkOtelClient(b, false) }
func BenchmarkOtelSDKClient(b *testing.B)  { benchmarkOtelClient(b, true) }

// benchmarkOtelServer serves one unary call at a time to a handler with
// telemetry, as BenchmarkServerAllocs does without.
func benchmarkOtelServer(b *testing.B, sdk bool) {
	msg := harness.NewPayload(smallSize)
	for _, t := range telemetryTargets {
		b.Run(t.String(), func(b *testing.B) {
			setup := newTelemetrySetup(b, sdk)
			var h http.Handler
			if t.impl == harness.ImplPolyconnect {
				_, h = harness.PolyconnectHandlerWith(setup.otelrpc())
			} else {
				_, h = harness.ConnectGoHandlerWith(setup.otelconnect(b, true))
			}
			data, header, _ := unaryBodies(b, t.protocol, msg)
			if sdk {
				header = header.Clone()
				header.Set("Traceparent", sampledParent)
			}
			body := &readerBody{}
			req, err := http.NewRequest(http.MethodPost, "http://bench"+benchv1connect.BenchServiceUnaryProcedure, body)
			if err != nil {
				b.Fatal(err)
			}
			req.Header = header
			req.ContentLength = int64(len(data))
			if t.protocol == harness.ProtocolGRPC {
				req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
				req.ContentLength = -1
			}
			w := &discardWriter{h: make(http.Header)}
			serve := func() error {
				body.Reset(data)
				clear(w.h)
				w.code, w.n = 0, 0
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK || w.n == 0 {
					return &statusError{w.code, w.h}
				}
				if s := w.h.Get("Grpc-Status"); s != "" && s != "0" {
					return &statusError{w.code, w.h}
				}
				if s := w.h.Get(http.TrailerPrefix + "Grpc-Status"); s != "" && s != "0" {
					return &statusError{w.code, w.h}
				}
				return nil
			}
			if err := serve(); err != nil {
				b.Fatalf("%s: %v", t, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := serve(); err != nil {
					b.Fatalf("%s: %v", t, err)
				}
			}
		})
	}
}

// benchmarkOtelClient makes one unary call at a time from a client with
// telemetry to an HTTP client that answers from memory, as
// BenchmarkClientAllocs does without.
func benchmarkOtelClient(b *testing.B, sdk bool) {
	msg := harness.NewPayload(smallSize)
	for _, t := range telemetryTargets {
		b.Run(t.String(), func(b *testing.B) {
			setup := newTelemetrySetup(b, sdk)
			data, header, trailer := cannedResponse(b, t.protocol, msg)
			hc := newMemoryHTTPClient(t.protocol, data, header, trailer)
			const baseURL = "http://bench"
			var call func(context.Context, *benchv1.Payload) error
			if t.impl == harness.ImplPolyconnect {
				c := benchv1rpc.NewBenchServiceClient(hc, baseURL, harness.PolyconnectClientOptions(t.protocol), setup.otelrpc())
				call = func(ctx context.Context, msg *benchv1.Payload) error {
					_, err := c.Unary(ctx, msg)
					return err
				}
			} else {
				opts := append(harness.ConnectGoClientOptions(t.protocol), setup.otelconnect(b, false))
				c := benchv1connect.NewBenchServiceClient(hc, baseURL, opts...)
				call = func(ctx context.Context, msg *benchv1.Payload) error {
					_, err := c.Unary(ctx, connect.NewRequest(msg))
					return err
				}
			}
			ctx := context.Background()
			if err := call(ctx, msg); err != nil {
				b.Fatalf("%s: %v", t, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := call(ctx, msg); err != nil {
					b.Fatalf("%s: %v", t, err)
				}
			}
		})
	}
}

// Command prometheus serves the greet service with its metrics for
// Prometheus: otelrpc records rpc.server.call.duration (and the client's
// rpc.client.call.duration) through OpenTelemetry's metric SDK, whose
// Prometheus exporter (go.opentelemetry.io/otel/exporters/prometheus) turns
// them into Prometheus histograms served at /metrics, next to the service
// on the same port:
//
//	go run ./examples/cmd/prometheus -addr 127.0.0.1:8080
//	curl -s http://127.0.0.1:8080/metrics | grep rpc_server_call_duration
//
// It makes a few calls of its own at start-up (a success and a rejected
// call over each protocol) so that there is something to see, then serves
// until interrupted. The metric names follow Prometheus' conventions for
// OpenTelemetry data: rpc.server.call.duration in seconds becomes
// rpc_server_call_duration_seconds (_bucket, _sum, _count), its attributes
// labels (rpc_method, rpc_system_name, rpc_response_status_code,
// error_type), with otel_scope_name="polyconnect.dev/otel".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	greetv1 "polyconnect.dev/examples/gen/greet/v1"
	"polyconnect.dev/examples/gen/greet/v1/greetv1rpc"
	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve the service and /metrics on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, *addr, os.Stdout, func(url string) {
		fmt.Printf("serving the greet service and %s/metrics; ^C to stop\n", url)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "prometheus:", err)
		os.Exit(1)
	}
}

// greeter implements greetv1rpc.GreetServiceHandler.
type greeter struct {
	greetv1rpc.UnimplementedGreetServiceHandler
}

func (greeter) Greet(_ context.Context, req *greetv1.GreetRequest) (*greetv1.GreetResponse, error) {
	if req.Name == "" {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "name is required")
	}
	return &greetv1.GreetResponse{Greeting: "Hello, " + req.Name + "!"}, nil
}

// run serves on addr until ctx is done; ready is called with the server's
// URL once it serves and the start-up calls are made.
func run(ctx context.Context, addr string, out io.Writer, ready func(url string)) error {
	// The Prometheus exporter is a metric reader: the meter provider hands
	// it the measurements, and it answers scrapes from a registry. A
	// registry of our own, rather than Prometheus' global one, keeps
	// /metrics to what this program registers.
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	// Metrics only: a program with a tracer provider would drop
	// WithoutTracing.
	telemetry := otelrpc.Telemetry(otelrpc.WithMeterProvider(mp), otelrpc.WithoutTracing())

	mux := http.NewServeMux()
	mux.Handle(greetv1rpc.NewGreetServiceHandler(greeter{}, telemetry))
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	// h2c serves HTTP/2 for gRPC and HTTP/1.1 for Prometheus' scrapes.
	srv, err := nethttp.NewServer(transport.Config{Name: transport.NameH2C, Addr: addr}, mux)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	hc, err := nethttp.NewClient(transport.Config{Name: transport.NameH2C})
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		client := greetv1rpc.NewGreetServiceClient(hc, srv.URL(), rpc.WithProtocol(p), telemetry)
		if _, err := client.Greet(ctx, &greetv1.GreetRequest{Name: "Ada"}); err != nil {
			return fmt.Errorf("%v: Greet: %w", p, err)
		}
		if _, err := client.Greet(ctx, &greetv1.GreetRequest{}); rpc.CodeOf(err) != rpc.CodeInvalidArgument {
			return fmt.Errorf("%v: Greet without a name: %v, want invalid_argument", p, err)
		}
	}
	fmt.Fprintln(out, "made 6 calls")
	if ready != nil {
		ready(srv.URL())
	}
	<-ctx.Done()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Command grpcmigrate is the runnable example of grpccompat's migration
// guide (grpccompat/README.md): a grpc-go service, with its
// protoc-gen-go-grpc code and its implementation unchanged, served by
// polyconnect through grpccompat.Registrar, and called by grpc-go's
// generated client through grpccompat.ClientConn, over gRPC, Connect and
// gRPC-Web, and by grpc-go's own client.
//
// The service is grpc-go's health service (google.golang.org/grpc/health):
// generated code (grpc_health_v1) and an implementation nobody here wrote,
// as a user's own service would be.
//
//	go run ./cmd/grpcmigrate
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"polyconnect.dev/grpccompat"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// The grpc-go service, as before.
	impl := health.NewServer()
	impl.SetServingStatus("greet.v1.GreetService", healthpb.HealthCheckResponse_SERVING)

	// Before: s := grpc.NewServer(); healthpb.RegisterHealthServer(s, impl); s.Serve(lis)
	// After: the same Register call on a Registrar, served by a polyconnect
	// transport (here transport-h2's h2c; any transport.Config works).
	reg := grpccompat.NewRegistrar()
	healthpb.RegisterHealthServer(reg, impl)
	srv, err := h2.NewServer(transport.Config{Name: h2.NameH2C, Addr: "127.0.0.1:0"}, reg)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Shutdown(context.Background())

	hc, err := h2.NewClient(transport.Config{Name: h2.NameH2C, Addr: srv.Addr().String()})
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()

	// Before: cc, _ := grpc.NewClient(addr, ...); client := healthpb.NewHealthClient(cc)
	// After: the generated client over a ClientConn, with any protocol.
	for _, p := range []rpc.Protocol{rpc.ProtocolGRPC, rpc.ProtocolConnect, rpc.ProtocolGRPCWeb} {
		conn := grpccompat.NewClientConn(hc, hc.URL(), grpccompat.WithClientOptions(rpc.WithProtocol(p)))
		client := healthpb.NewHealthClient(conn)
		res, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "greet.v1.GreetService"})
		if err != nil {
			return fmt.Errorf("%v: Check: %w", p, err)
		}
		fmt.Fprintf(out, "%-8v Check: %v\n", p, res.GetStatus())
	}

	// A server stream: Watch reports changes as they happen.
	conn := grpccompat.NewClientConn(hc, hc.URL(), grpccompat.WithClientOptions(rpc.WithProtocol(rpc.ProtocolConnect)))
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch, err := healthpb.NewHealthClient(conn).Watch(wctx, &healthpb.HealthCheckRequest{Service: "greet.v1.GreetService"})
	if err != nil {
		return err
	}
	first, err := watch.Recv()
	if err != nil {
		return err
	}
	impl.SetServingStatus("greet.v1.GreetService", healthpb.HealthCheckResponse_NOT_SERVING)
	second, err := watch.Recv()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "connect  Watch: %v then %v\n", first.GetStatus(), second.GetStatus())

	// Existing grpc-go clients keep working against the migrated server.
	cc, err := grpc.NewClient("passthrough:///"+srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	res, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{Service: "greet.v1.GreetService"})
	if err != nil {
		return fmt.Errorf("grpc-go client: %w", err)
	}
	fmt.Fprintf(out, "grpc-go  Check: %v\n", res.GetStatus())
	return nil
}

// Command compatclient runs one of grpc-go's interop client cases
// (google.golang.org/grpc/interop) with grpc-go's generated client over a
// grpccompat.ClientConn, on any polyconnect transport and protocol:
//
//	compatclient -server_port 10000 -transport h2c -protocol grpc -test_case large_unary
//	compatclient -server_port 10000 -transport h3 -protocol connect -ca_file ca.pem \
//	    -server_host_override foo.test.google.fr -test_case ping_pong
//
// The case's checks are grpc-go's own; a failed check exits non-zero.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"polyconnect.dev/grpccompat"
	"polyconnect.dev/grpccompat/interoptest"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

func main() {
	log.SetPrefix("compatclient: ")
	log.SetFlags(0)
	host := flag.String("server_host", "127.0.0.1", "server host")
	port := flag.Int("server_port", 10000, "server port")
	name := flag.String("transport", "h2c", "polyconnect transport: http1, h2c, h2c-rpc, h2, h2-rpc or h3")
	protoName := flag.String("protocol", "grpc", "connect, grpc or grpcweb")
	caFile := flag.String("ca_file", "", "CA certificate (PEM) for the TLS transports")
	override := flag.String("server_host_override", "", "server name to verify the certificate against")
	testCase := flag.String("test_case", "large_unary", "the interop case to run")
	flag.Parse()

	protocol, err := interoptest.ParseProtocol(*protoName)
	if err != nil {
		log.Fatal(err)
	}
	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	cfg := transport.Config{Name: *name, Addr: addr}
	if interoptest.TLSTransport(*name) {
		cfg.TLS = &transport.TLSConfig{CAFile: *caFile, ServerName: *override}
	}
	hc, err := transport.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	conn := grpccompat.NewClientConn(hc, hc.URL(), grpccompat.WithClientOptions(rpc.WithProtocol(protocol)))
	tc := testgrpc.NewTestServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, *testCase, tc, conn); err != nil {
		log.Fatalf("%s: %v", *testCase, err)
	}
	fmt.Printf("compatclient: %s passed\n", *testCase)
}

func run(ctx context.Context, name string, tc testgrpc.TestServiceClient, conn *grpccompat.ClientConn) error {
	switch name {
	case "empty_unary":
		interop.DoEmptyUnaryCall(ctx, tc)
	case "large_unary":
		interop.DoLargeUnaryCall(ctx, tc)
	case "client_streaming":
		interop.DoClientStreaming(ctx, tc)
	case "server_streaming":
		interop.DoServerStreaming(ctx, tc)
	case "ping_pong":
		interop.DoPingPong(ctx, tc)
	case "empty_stream":
		interop.DoEmptyStream(ctx, tc)
	case "timeout_on_sleeping_server":
		interop.DoTimeoutOnSleepingServer(ctx, tc)
	case "cancel_after_begin":
		interop.DoCancelAfterBegin(ctx, tc)
	case "cancel_after_first_response":
		interop.DoCancelAfterFirstResponse(ctx, tc)
	case "custom_metadata":
		interop.DoCustomMetadata(ctx, tc)
	case "status_code_and_message":
		interop.DoStatusCodeAndMessage(ctx, tc)
	case "special_status_message":
		interop.DoSpecialStatusMessage(ctx, tc)
	case "unimplemented_service":
		interop.DoUnimplementedService(ctx, testgrpc.NewUnimplementedServiceClient(conn))
	case "unimplemented_method":
		// grpc-go's DoUnimplementedMethod takes a *grpc.ClientConn; this is
		// the same check through the ClientConnInterface.
		err := conn.Invoke(ctx, "/grpc.testing.TestService/UnimplementedCall", &testgrpc.Empty{}, &testgrpc.Empty{})
		if status.Code(err) != codes.Unimplemented {
			return fmt.Errorf("UnimplementedCall: %v, want code %s", err, codes.Unimplemented)
		}
	case "pick_first_unary":
		interop.DoPickFirstUnary(ctx, tc)
	default:
		fmt.Fprintf(os.Stderr, "compatclient: unknown test case %q\n", name)
		os.Exit(2)
	}
	return nil
}

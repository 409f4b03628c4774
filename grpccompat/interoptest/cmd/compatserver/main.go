// Command compatserver serves grpc-go's interop TestServiceServer
// (google.golang.org/grpc/interop.NewTestServer) mounted on a
// grpccompat.Registrar, on any polyconnect transport:
//
//	compatserver -port 10000 -transport h2c
//	compatserver -port 10000 -transport h3 -tls_cert_file server1.pem -tls_key_file server1.key
//
// It answers Connect, gRPC and gRPC-Web, prints "compatserver: listening on
// ADDR" once it accepts calls, and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"polyconnect.dev/grpccompat"
	"polyconnect.dev/grpccompat/interoptest"
	"polyconnect.dev/protocol/transport"
)

func main() {
	log.SetPrefix("compatserver: ")
	log.SetFlags(0)
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 10000, "port to listen on")
	name := flag.String("transport", "h2c", "polyconnect transport: http1, h2c, h2c-rpc, h2, h2-rpc or h3")
	certFile := flag.String("tls_cert_file", "", "PEM certificate chain, for the TLS transports")
	keyFile := flag.String("tls_key_file", "", "PEM private key, for the TLS transports")
	flag.Parse()

	reg := grpccompat.NewRegistrar()
	testgrpc.RegisterTestServiceServer(reg, interop.NewTestServer())
	cfg := transport.Config{Name: *name, Addr: net.JoinHostPort(*host, strconv.Itoa(*port))}
	if interoptest.TLSTransport(*name) {
		cfg.TLS = &transport.TLSConfig{CertFile: *certFile, KeyFile: *keyFile}
	}
	srv, err := transport.NewServer(cfg, reg)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("compatserver: listening on %s (%s)\n", srv.Addr(), *name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
}

// Command compatserve serves the bench service for the split-process
// comparison of grpccompat (bench/grpccompat-split.sh): the same grpc-go
// service code on grpc.Server, or on grpccompat's Registrar over
// transport-h2's h2c-rpc, or polyconnect's own generated handler on h2c-rpc
// as the reference. All three speak gRPC over h2c, so grpc-go's client
// (cmd/load -impl grpc-go) calls each the same way.
//
//	compatserve -server registrar -port 0
//
// It prints "compatserve: serving at HOST:PORT" and serves until
// interrupted; -cpuprofile FILE profiles it until then.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"

	"polyconnect.dev/bench/internal/harness"
	"polyconnect.dev/grpccompat"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
)

func main() {
	log.SetPrefix("compatserve: ")
	log.SetFlags(0)
	which := flag.String("server", "registrar", "grpc (grpc.Server), registrar (grpccompat on h2c-rpc) or native (polyconnect's handler on h2c-rpc)")
	port := flag.Int("port", 0, "port on 127.0.0.1; 0 picks one")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the server to the file until it is interrupted")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch *which {
	case "grpc":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatal(err)
		}
		s := harness.NewGRPCGoServer()
		go func() { _ = s.Serve(ln) }()
		fmt.Printf("compatserve: serving at %s\n", ln.Addr())
		<-ctx.Done()
		s.Stop()
		return
	case "registrar", "native":
	default:
		log.Fatalf("unknown -server %q", *which)
	}
	var h http.Handler
	if *which == "registrar" {
		reg := grpccompat.NewRegistrar()
		harness.RegisterGRPCGoService(reg)
		h = reg
	} else {
		mux := http.NewServeMux()
		mux.Handle(harness.PolyconnectHandler())
		h = mux
	}
	srv, err := h2.NewServer(transport.Config{Name: h2.NameH2C, Addr: addr}, h)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("compatserve: serving at %s\n", srv.Addr())
	<-ctx.Done()
	_ = srv.Shutdown(context.Background())
}

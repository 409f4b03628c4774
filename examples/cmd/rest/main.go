// Command rest serves a bookstore over Connect, gRPC and gRPC-Web and, from the
// google.api.http annotations of its proto, as a REST/JSON API with an
// OpenAPI document: all on one port, by one handler. See README.md for the
// curl commands.
//
//	go run ./examples/cmd/rest                 # serves on 127.0.0.1:8080
//	go run ./examples/cmd/rest -addr :9000     # elsewhere
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

	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/transcode"
	h2 "polyconnect.dev/transport-h2" // registers h2c-rpc and h2-rpc

	bookstorev1 "polyconnect.dev/examples/gen/bookstore/v1"
	"polyconnect.dev/examples/gen/bookstore/v1/bookstorev1rpc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "rest:", err)
		os.Exit(1)
	}
}

// newHandler returns the mux: the bookstore's RPC handler, its REST routes
// and their OpenAPI document.
func newHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle(bookstorev1rpc.NewBookstoreServiceHandler(newBookstore()))
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{
		bookstorev1.File_bookstore_v1_bookstore_proto.Services().ByName("BookstoreService"),
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("/", rest)
	mux.Handle("GET /openapi.json", rest.OpenAPIHandler())
	return mux, nil
}

// run serves until ctx ends. started, if not nil, gets the server's URL once
// it listens.
func run(ctx context.Context, addr string, stdout io.Writer, started chan<- string) error {
	h, err := newHandler()
	if err != nil {
		return err
	}
	// h2c-rpc: HTTP/2 without TLS on transport-h2's engine, and HTTP/1.1
	// (curl, browsers) on the same port.
	srv, err := transport.NewServer(transport.Config{Name: h2.NameH2C, Addr: addr}, h)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rest: serving the bookstore at %s (REST under /v1/, OpenAPI at /openapi.json, Connect/gRPC at /bookstore.v1.BookstoreService/)\n", srv.URL())
	if started != nil {
		started <- srv.URL()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return <-served
}

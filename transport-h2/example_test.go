package h2_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
)

// Through the registry: configuration names "h2c-rpc" (or "h2-rpc" with a
// certificate), and the import of this package (blank, in a real program)
// makes the name known. Everything above the transport is unchanged.
func Example() {
	cfg := transport.Config{Name: "h2c-rpc", Addr: "127.0.0.1:0"}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", r.Proto)
	})
	srv, err := transport.NewServer(cfg, mux)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())

	client, err := transport.NewClient(transport.Config{Name: "h2c-rpc"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/hello", nil)
	res, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(string(body))
	// Output: hello over HTTP/2.0
}

// An RPC service and client on the engine, with the constructors of this
// package and options a config file cannot hold.
func ExampleNewServer() {
	spec := rpc.Spec{Procedure: "/greet.v1.GreetService/Greet", StreamType: rpc.StreamTypeUnary}
	greet := rpc.NewUnaryHandler(spec, func(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return wrapperspb.String("Hello, " + req.Value + "!"), nil
	})
	srv, err := h2.NewServer(
		transport.Config{Name: h2.NameH2C, Addr: "127.0.0.1:0", MaxConcurrentStreams: 1000},
		greet,
		h2.WithKeepalive(30*time.Second, 10*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())

	hc, err := h2.NewClient(transport.Config{Name: h2.NameH2C})
	if err != nil {
		log.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, srv.URL(), spec, rpc.WithProtocol(p))
		res, err := client.CallUnary(context.Background(), wrapperspb.String("Jane"))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p, res.Value)
	}
	// Output:
	// connect Hello, Jane!
	// grpc Hello, Jane!
	// grpcweb Hello, Jane!
}

// A client's URL follows its configuration: "h2-rpc" is HTTP/2 over TLS,
// "h2c-rpc" cleartext.
func ExampleClient_URL() {
	for _, name := range []string{h2.NameH2C, h2.NameH2} {
		client, err := h2.NewClient(transport.Config{Name: name, Addr: "greeter.internal:8443"})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, client.URL())
	}
	// Output:
	// h2c-rpc http://greeter.internal:8443
	// h2-rpc https://greeter.internal:8443
}

// A main function that serves until it is told to stop, then lets the
// calls in flight finish: clients get GOAWAY in two steps, and streams end
// on their own.
func ExampleServer_Shutdown() {
	srv, err := h2.NewServer(transport.Config{Name: h2.NameH2C, Addr: "127.0.0.1:0"}, http.NotFoundHandler())
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}

	// In a real program: ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		<-ctx.Done()
		// Give calls in flight a deadline in a real program.
		srv.Shutdown(context.Background())
	}()
	stop()

	// Serve blocks until Shutdown has finished.
	if err := srv.Serve(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("stopped")
	// Output: stopped
}

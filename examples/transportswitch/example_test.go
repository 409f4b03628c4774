// Package transportswitch shows one program that serves and calls the
// greet service over HTTP/2 or HTTP/3, chosen by its configuration alone.
package transportswitch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	greetv1 "polyconnect.dev/examples/gen/greet/v1"
	"polyconnect.dev/examples/gen/greet/v1/greetv1rpc"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/transport-nethttp/certs"

	// The transports the configuration may name: "h2" (and http1, h2c)
	// and "h3". These two imports are all the program knows of them.
	_ "polyconnect.dev/transport-http3"
	_ "polyconnect.dev/transport-nethttp"
)

// config is the program's configuration file: a server and a client
// transport, as package transport decodes them.
type config struct {
	Server transport.Config `json:"server"`
	Client transport.Config `json:"client"`
}

type greeter struct {
	greetv1rpc.UnimplementedGreetServiceHandler
}

func (greeter) Greet(ctx context.Context, req *greetv1.GreetRequest) (*greetv1.GreetResponse, error) {
	return &greetv1.GreetResponse{Greeting: "Hello, " + req.Name + "!"}, nil
}

// run is the whole program: everything transport-specific comes from file.
func run(file string, pki *certs.PKI) error {
	var cfg config
	if err := json.Unmarshal([]byte(file), &cfg); err != nil {
		return err
	}
	// A deployed program would name certificate files in the file; the
	// example makes throw-away ones.
	cfg.Server.TLS, cfg.Client.TLS = pki.ServerTLS(), pki.ClientTLS()

	path, handler := greetv1rpc.NewGreetServiceHandler(greeter{})
	mux := http.NewServeMux()
	mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-Over", r.Proto)
		handler.ServeHTTP(w, r)
	}))
	srv, err := transport.NewServer(cfg.Server, mux)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Shutdown(context.Background())

	client, err := transport.NewClient(cfg.Client)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	greet := greetv1rpc.NewGreetServiceClient(client, srv.URL())
	ctx, info := rpc.NewClientContext(context.Background())
	res, err := greet.Greet(ctx, &greetv1.GreetRequest{Name: "Ada"})
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s (served over %s)\n", cfg.Server.Name, res.Greeting, info.ResponseHeader().Get("X-Served-Over"))
	return nil
}

// The same program runs over HTTP/2 and HTTP/3: only "name" differs
// between the two configuration files.
func Example() {
	pki, err := certs.NewTestPKI()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, file := range []string{
		`{"server": {"name": "h2", "addr": "127.0.0.1:0"}, "client": {"name": "h2"}}`,
		`{"server": {"name": "h3", "addr": "127.0.0.1:0"}, "client": {"name": "h3"}}`,
	} {
		if err := run(file, pki); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// h2: Hello, Ada! (served over HTTP/2.0)
	// h3: Hello, Ada! (served over HTTP/3.0)
}

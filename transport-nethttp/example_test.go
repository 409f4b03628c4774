package nethttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"

	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
	"polyconnect.dev/transport-nethttp/certs"
)

// Through the registry: the transport is named in configuration, and the
// import of this package (blank, in a real program) makes the name known.
func Example() {
	cfg := transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}
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

	client, err := transport.NewClient(transport.Config{Name: "h2c"})
	if err != nil {
		log.Fatal(err)
	}
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

// HTTP/2 over TLS with mutual authentication, using the constructors of
// this package directly and certificates made for the occasion.
func ExampleNewServer() {
	pki, err := certs.NewTestPKI()
	if err != nil {
		log.Fatal(err)
	}
	serverTLS := pki.ServerTLS()
	serverTLS.RequireClientCert = true

	srv, err := nethttp.NewServer(
		transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: serverTLS},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s from %s", r.Proto, r.TLS.PeerCertificates[0].Subject.CommonName)
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())

	client, err := nethttp.NewClient(transport.Config{Name: "h2", TLS: pki.ClientTLS()})
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.HTTPClient().Get(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(string(body))
	// Output: HTTP/2.0 from polyconnect test client
}

// A client's URL follows its configuration, so switching a service from
// h2c to h2 changes the scheme with it.
func ExampleClient_URL() {
	for _, name := range []string{"http1", "h2c", "h2"} {
		client, err := nethttp.NewClient(transport.Config{Name: name, Addr: "greeter.internal:8080"})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, client.URL())
	}
	// Output:
	// http1 http://greeter.internal:8080
	// h2c http://greeter.internal:8080
	// h2 https://greeter.internal:8080
}

// A main function that serves until it is told to stop, then lets the
// calls in flight finish.
func ExampleServer_Shutdown() {
	srv, err := nethttp.NewServer(transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}, http.NotFoundHandler())
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
		// Give calls in flight up to a deadline in a real program.
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

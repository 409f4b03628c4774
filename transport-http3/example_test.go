package h3_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"polyconnect.dev/protocol/transport"
	h3 "polyconnect.dev/transport-http3"
	"polyconnect.dev/transport-http3/internal/testpki"
)

// A program that reads its transport from configuration serves and calls
// over HTTP/3 with "name": "h3" and the blank import of this module; the
// rest of the configuration is what an h2 server would have.
func Example() {
	server, err := testpki.NewServer() // a throw-away certificate for 127.0.0.1
	if err != nil {
		fmt.Println(err)
		return
	}
	file := `{"name": "h3", "addr": "127.0.0.1:0", "idle_timeout": "1m"}`
	var cfg transport.Config
	if err := json.Unmarshal([]byte(file), &cfg); err != nil {
		fmt.Println(err)
		return
	}
	// A real program would set tls.cert_file and tls.key_file in the file.
	cfg.TLS = &transport.TLSConfig{CertPEM: server.CertPEM, KeyPEM: server.KeyPEM}

	srv, err := transport.NewServer(cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", r.Proto)
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	client, err := transport.NewClient(transport.Config{Name: "h3", TLS: &transport.TLSConfig{CAPEM: server.CertPEM}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.(*h3.Client).Close() // an h3 client owns a UDP socket

	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/", nil)
	res, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(string(body))
	// Output:
	// hello over HTTP/3.0
}

// NewServer with WithHTTP2Companion also serves HTTP/2 on the same port
// (TCP), advertising HTTP/3 with Alt-Svc so that browsers and curl
// switch to it.
func ExampleNewServer() {
	server, err := testpki.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := h3.NewServer(transport.Config{
		Addr: "127.0.0.1:0",
		TLS:  &transport.TLSConfig{CertPEM: server.CertPEM, KeyPEM: server.KeyPEM},
	}, http.NotFoundHandler(), h3.WithHTTP2Companion())
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	fmt.Println(srv.Addr().Network(), srv.URL() != "")
	// Output:
	// udp true
}

// NewClient needs no configuration for servers with certificates from
// public authorities; Do sends requests over HTTP/3 only.
func ExampleNewClient() {
	client, err := h3.NewClient(transport.Config{Addr: "api.example.com:443"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	fmt.Println(client.URL())
	// Output:
	// https://api.example.com:443
}

// Command conformanceserver is the server under test for the Connect
// conformance suite in server mode. It reads one ServerCompatRequest from
// stdin, starts ConformanceService on a loopback port with the requested HTTP
// version and TLS settings, writes a ServerCompatResponse to stdout, and serves
// until it receives SIGTERM or SIGINT.
//
// The server is built as an application would build it: a transport.Config
// naming the transport ("http1", "h2c" or "h2" from transport-nethttp, with
// -http2 h2 "h2c-rpc" and "h2-rpc" from transport-h2, or "h3" from
// transport-http3, registered by their imports) and the handlers of package
// rpc.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"polyconnect.dev/conformance/internal/compat"
	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
	"polyconnect.dev/conformance/internal/service"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"

	// Every compression the configs list; each registers itself.
	_ "polyconnect.dev/protocol/compress/brotli"
	_ "polyconnect.dev/protocol/compress/deflate"
	_ "polyconnect.dev/protocol/compress/snappy"
	_ "polyconnect.dev/protocol/compress/zstd"
	// The http1, h2c, h2, h2c-rpc and h2-rpc transports.
	"polyconnect.dev/conformance/internal/engine"
	// The h3 transport.
	_ "polyconnect.dev/transport-http3"
)

func main() {
	log.SetPrefix("conformanceserver: ")
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	http2 := engine.Flag()
	flag.Parse()
	var req v1.ServerCompatRequest
	if err := compat.ReadMessage(os.Stdin, &req); err != nil {
		return fmt.Errorf("read ServerCompatRequest: %w", err)
	}
	cfg, err := serverConfig(&req, *http2)
	if err != nil {
		return err
	}
	var opts []rpc.HandlerOption
	if n := req.GetMessageReceiveLimit(); n > 0 {
		opts = append(opts, rpc.WithReadMaxBytes(int64(n)))
	}
	srv, err := transport.NewServer(cfg, service.NewHandler(opts...))
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	res := &v1.ServerCompatResponse{Host: "127.0.0.1", Port: uint32(port(srv.Addr()))}
	if req.GetUseTls() {
		res.PemCert = req.GetServerCreds().GetCert()
	}
	if err := compat.WriteMessage(os.Stdout, res); err != nil {
		return fmt.Errorf("write ServerCompatResponse: %w", err)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case err := <-served:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// port returns the port of a TCP (http1, h2c, h2) or UDP (h3) address.
func port(addr net.Addr) int {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.Port
	case *net.UDPAddr:
		return a.Port
	}
	return 0
}

// serverConfig maps the runner's request to a transport configuration:
// HTTP/1.1 ("http1", with TLS when asked), h2c, HTTP/2 over TLS ("h2") or
// HTTP/3 ("h3", always over TLS),
// with the runner's certificate and, when it sends a client certificate,
// mutual TLS.
func serverConfig(req *v1.ServerCompatRequest, http2 string) (transport.Config, error) {
	cfg := transport.Config{Addr: "127.0.0.1:0"}
	var err error
	switch v := req.GetHttpVersion(); v {
	case v1.HTTPVersion_HTTP_VERSION_1:
		cfg.Name, err = engine.ServerHTTP1Name(http2, req.GetUseTls())
	case v1.HTTPVersion_HTTP_VERSION_2:
		cfg.Name, err = engine.HTTP2Name(http2, req.GetUseTls())
	case v1.HTTPVersion_HTTP_VERSION_3:
		if !req.GetUseTls() {
			return cfg, errors.New("HTTP/3 needs TLS")
		}
		cfg.Name = transport.NameH3
	default:
		return cfg, fmt.Errorf("HTTP version %v is not supported", v)
	}
	if err != nil {
		return cfg, err
	}
	if req.GetUseTls() {
		creds := req.GetServerCreds()
		cfg.TLS = &transport.TLSConfig{CertPEM: string(creds.GetCert()), KeyPEM: string(creds.GetKey())}
		if pem := req.GetClientTlsCert(); len(pem) > 0 {
			cfg.TLS.ClientCAPEM = string(pem)
			cfg.TLS.RequireClientCert = true
		}
	}
	return cfg, nil
}

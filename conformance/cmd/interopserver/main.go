// Command interopserver serves grpc.testing.TestService, the service of
// gRPC's interop tests, with polyconnect, for interop clients such as
// grpc-go's (google.golang.org/grpc/interop/client). Its flags follow
// grpc-go's interop server:
//
//	interopserver -port 10000                    # h2c (and HTTP/1.1) without TLS
//	interopserver -port 10000 -use_tls -tls_cert_file server.pem -tls_key_file server.key
//	interopserver -port 10000 -use_tls -tls_ca_out ca.pem
//
// With -use_tls and no certificate files it makes an in-memory test PKI
// for localhost, 127.0.0.1 and ::1, and -tls_ca_out writes that CA where
// a client can find it (interopclient -ca_file, or grpc-go's client with
// -use_test_ca -ca_file). It answers gRPC, gRPC-Web and Connect on the
// same port, prints "interopserver: listening on ADDR" once it accepts
// calls, and shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"polyconnect.dev/conformance/internal/engine"
	"polyconnect.dev/conformance/internal/grpcinterop"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
	nethttp "polyconnect.dev/transport-nethttp"
	"polyconnect.dev/transport-nethttp/certs"
)

func main() {
	log.SetPrefix("interopserver: ")
	log.SetFlags(0)
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, func(addr net.Addr) {
		fmt.Printf("interopserver: listening on %s\n", addr)
	}); err != nil {
		log.Fatal(err)
	}
}

// config is what the flags set.
type config struct {
	host     string
	port     int
	useTLS   bool
	certFile string
	keyFile  string
	caOut    string
	serverID string
	http2    string // the HTTP/2 engine: package engine's NetHTTP or H2
}

func parseFlags(args []string, output io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("interopserver", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&cfg.host, "host", "", "address to listen on; empty for all interfaces, as grpc-go's interop server does")
	fs.IntVar(&cfg.port, "port", 10000, "port to listen on; 0 picks a free one")
	fs.BoolVar(&cfg.useTLS, "use_tls", false, "serve HTTP/2 over TLS instead of h2c")
	fs.StringVar(&cfg.certFile, "tls_cert_file", "", "PEM certificate chain for TLS; without it and -tls_key_file, an in-memory test PKI")
	fs.StringVar(&cfg.keyFile, "tls_key_file", "", "PEM private key for TLS")
	fs.StringVar(&cfg.caOut, "tls_ca_out", "", "with -use_tls and the in-memory test PKI, write its CA certificate (PEM) to this file")
	fs.StringVar(&cfg.serverID, "server_id", "polyconnect-interopserver", "server_id to answer requests with fill_server_id")
	fs.StringVar(&cfg.http2, "http2", engine.NetHTTP, `whose HTTP/2 to serve: "nethttp" (transport-nethttp) or "h2" (transport-h2)`)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: interopserver [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	fail := func(msg string) (config, error) {
		fmt.Fprintln(output, "interopserver:", msg)
		fs.Usage()
		return cfg, errors.New(msg)
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected arguments: " + fmt.Sprint(fs.Args()))
	case cfg.port < 0 || cfg.port > 65535:
		return fail("-port " + strconv.Itoa(cfg.port) + " is out of range")
	case (cfg.certFile == "") != (cfg.keyFile == ""):
		return fail("-tls_cert_file and -tls_key_file go together")
	case !cfg.useTLS && (cfg.certFile != "" || cfg.caOut != ""):
		return fail("-tls_cert_file, -tls_key_file and -tls_ca_out need -use_tls")
	case cfg.certFile != "" && cfg.caOut != "":
		return fail("-tls_ca_out writes the in-memory test CA, which is not used with -tls_cert_file")
	case cfg.http2 != engine.NetHTTP && cfg.http2 != engine.H2:
		return fail("-http2 must be nethttp or h2")
	}
	return cfg, nil
}

// run serves until ctx ends, then shuts down gracefully. ready is called
// with the listening address once the server accepts calls.
func run(ctx context.Context, cfg config, ready func(net.Addr)) error {
	name, err := engine.HTTP2Name(cfg.http2, cfg.useTLS)
	if err != nil {
		return err
	}
	tc := transport.Config{
		Name: name,
		Addr: net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)),
	}
	if cfg.useTLS {
		if cfg.certFile != "" {
			tc.TLS = &transport.TLSConfig{CertFile: cfg.certFile, KeyFile: cfg.keyFile}
		} else {
			pki, err := certs.NewTestPKI()
			if err != nil {
				return err
			}
			tc.TLS = &transport.TLSConfig{CertPEM: string(pki.ServerCertPEM), KeyPEM: string(pki.ServerKeyPEM)}
			if cfg.caOut != "" {
				if err := os.WriteFile(cfg.caOut, pki.CAPEM, 0o644); err != nil {
					return err
				}
			}
		}
	}
	hostname, _ := os.Hostname()
	handler := grpcinterop.NewHandler(&grpcinterop.Server{ID: cfg.serverID, Hostname: hostname})
	errorLog := log.New(os.Stderr, "interopserver: ", 0)
	var srv transport.Server
	if cfg.http2 == engine.H2 {
		srv, err = h2.NewServer(tc, handler, h2.WithErrorLog(errorLog))
	} else {
		srv, err = nethttp.NewServer(tc, handler, nethttp.WithErrorLog(errorLog))
	}
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	ready(srv.Addr())
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

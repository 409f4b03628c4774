// Command conformanceserver is the server under test for the Connect
// conformance suite in server mode. It reads one ServerCompatRequest from
// stdin, starts ConformanceService on a loopback port with the requested HTTP
// version and TLS settings, writes a ServerCompatResponse to stdout, and serves
// until it receives SIGTERM or SIGINT.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"polyconnect.dev/conformance/internal/compat"
	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
	"polyconnect.dev/conformance/internal/service"
	"polyconnect.dev/protocol/rpc"

	// Every compression the configs list; each registers itself.
	_ "polyconnect.dev/protocol/compress/brotli"
	_ "polyconnect.dev/protocol/compress/deflate"
	_ "polyconnect.dev/protocol/compress/snappy"
	_ "polyconnect.dev/protocol/compress/zstd"
)

func main() {
	log.SetPrefix("conformanceserver: ")
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	var req v1.ServerCompatRequest
	if err := compat.ReadMessage(os.Stdin, &req); err != nil {
		return fmt.Errorf("read ServerCompatRequest: %w", err)
	}
	var opts []rpc.HandlerOption
	if n := req.GetMessageReceiveLimit(); n > 0 {
		opts = append(opts, rpc.WithReadMaxBytes(int64(n)))
	}
	srv := &http.Server{
		Handler:           service.NewHandler(opts...),
		ReadHeaderTimeout: 10 * time.Second,
		Protocols:         new(http.Protocols),
		ErrorLog:          log.New(os.Stderr, "conformanceserver: http: ", 0),
	}
	srv.Protocols.SetHTTP1(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	res := &v1.ServerCompatResponse{Host: "127.0.0.1", Port: uint32(ln.Addr().(*net.TCPAddr).Port)}
	if req.GetUseTls() {
		cfg, err := tlsConfig(&req)
		if err != nil {
			return err
		}
		srv.TLSConfig = cfg
		srv.Protocols.SetHTTP2(true)
		res.PemCert = req.GetServerCreds().GetCert()
	} else if req.GetHttpVersion() == v1.HTTPVersion_HTTP_VERSION_2 {
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	if v := req.GetHttpVersion(); v == v1.HTTPVersion_HTTP_VERSION_3 {
		return fmt.Errorf("HTTP version %v is not supported", v)
	}

	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	if err := compat.WriteMessage(os.Stdout, res); err != nil {
		return fmt.Errorf("write ServerCompatResponse: %w", err)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	select {
	case err := <-errc:
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

// tlsConfig serves the runner's certificate and, when the request carries a
// client certificate, requires clients to present one it signed.
func tlsConfig(req *v1.ServerCompatRequest) (*tls.Config, error) {
	creds := req.GetServerCreds()
	cert, err := tls.X509KeyPair(creds.GetCert(), creds.GetKey())
	if err != nil {
		return nil, fmt.Errorf("server credentials: %w", err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if pem := req.GetClientTlsCert(); len(pem) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("client certificate: no PEM certificate found")
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

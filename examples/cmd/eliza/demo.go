package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/transport-nethttp/certs"
)

// demo is the default mode: Eliza on every registered transport at once,
// called with every protocol each carries.
func demo(ctx context.Context, opts *options, stdout io.Writer) error {
	if opts.set["transport"] || opts.set["addr"] || opts.selfSigned || opts.insecure {
		return usageError{errors.New("-transport, -addr, -self-signed and -insecure go with -serve or -url; the demo uses every transport on loopback")}
	}
	names := transport.Names()
	if len(names) == 0 {
		return errors.New("no transport is registered: import one in transports.go")
	}
	// One throw-away certificate authority for every TLS transport: the
	// servers present its certificate, the clients trust it.
	pki, err := certs.NewTestPKI("127.0.0.1", "localhost")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	fmt.Fprintf(stdout, "Eliza (%s) on every transport: %s\n\n", elizaService, strings.Join(names, ", "))
	h := newHandler(nil)
	var t table
	var errs []error
	for _, name := range names {
		rows, err := demoTransport(ctx, name, h, pki)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		t.add(rows...)
	}
	if err := t.print(stdout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// demoTransport serves h with one transport on a free loopback port, calls
// every method in every protocol the transport carries, and stops the
// server gracefully.
func demoTransport(ctx context.Context, name string, h http.Handler, pki *certs.PKI) (rows []row, err error) {
	serverCfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
	clientCfg := transport.Config{Name: name}
	srv, err := transport.NewServer(serverCfg, h)
	if err != nil {
		// A transport that will not serve without a certificate, such as
		// h2 or h3, gets one from the throw-away authority, and its
		// client trusts that authority.
		serverCfg.TLS = pki.ServerTLS()
		clientCfg.TLS = pki.ClientTLS()
		if srv, err = transport.NewServer(serverCfg, h); err != nil {
			return nil, err
		}
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		err = errors.Join(err, srv.Shutdown(sctx))
	}()
	clientCfg.Addr = srv.Addr().String()
	client, err := transport.NewClient(clientCfg)
	if err != nil {
		return nil, err
	}
	defer client.CloseIdleConnections()
	for _, p := range protocolsFor(name) {
		rows = append(rows, callEveryMethod(ctx, client, client.URL(), name, p)...)
	}
	if servesHTTP1(name) {
		// The same server, on the same port, called by an HTTP/1.1
		// client: the rows say the server's transport, and HTTP/1.1.
		h1Cfg := transport.Config{Name: transport.NameHTTP1, Addr: clientCfg.Addr, TLS: clientCfg.TLS}
		h1, err := transport.NewClient(h1Cfg)
		if err != nil {
			return nil, err
		}
		defer h1.CloseIdleConnections()
		for _, p := range protocolsFor(transport.NameHTTP1) {
			for _, r := range callEveryMethod(ctx, h1, h1.URL(), transport.NameHTTP1, p) {
				r.transport = name
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

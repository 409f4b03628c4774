package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"polyconnect.dev/protocol/cors"
	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/transport-nethttp/certs"
)

// shutdownGrace is how long -serve lets calls in flight finish after an
// interrupt before it cuts them off.
const shutdownGrace = 10 * time.Second

// serve is the -serve mode: one transport, until ctx ends.
func serve(ctx context.Context, opts *options, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(opts.configFile)
	if err != nil {
		return err
	}
	if opts.set["transport"] || cfg.Name == "" {
		cfg.Name = or(opts.name, defaultTransport)
	}
	if opts.set["addr"] || cfg.Addr == "" {
		cfg.Addr = or(opts.addr, "127.0.0.1:8080")
	}
	if cfg.Logger == nil {
		// The transport's own reports (failed TLS handshakes, HTTP/2
		// connection errors) as structured lines on standard error.
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	var policy *cors.Policy
	if len(opts.cors) > 0 {
		if policy, err = cors.New(cors.WithAllowedOrigins(opts.cors...)); err != nil {
			return err
		}
	}
	h := newHandler(policy)

	srv, err := transport.NewServer(cfg, h)
	if err != nil && cfg.TLS == nil && cfg.TLSConfig == nil {
		// Does the transport only lack a certificate? Then -self-signed
		// gives it one, or the error says that it would.
		withCert, certErr := newSelfSignedServer(cfg, h)
		switch {
		case certErr != nil:
			// Something else is wrong: report the first error.
		case opts.selfSigned:
			srv, err = withCert, nil
		default:
			err = fmt.Errorf("%w (or run with -self-signed for a throw-away certificate)", err)
		}
	}
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "eliza: serving %s over %s at %s (interrupt to stop)\n", elizaService, cfg.Name, srv.URL())
	if policy != nil {
		fmt.Fprintf(stdout, "eliza: browser pages from %v may call\n", opts.cors)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "eliza: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return <-served
}

// newSelfSignedServer builds a server for cfg with a fresh self-signed
// certificate for loopback.
func newSelfSignedServer(cfg transport.Config, h http.Handler) (transport.Server, error) {
	pki, err := certs.NewTestPKI()
	if err != nil {
		return nil, err
	}
	cfg.TLS = pki.ServerTLS()
	return transport.NewServer(cfg, h)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

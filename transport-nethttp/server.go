package nethttp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"polyconnect.dev/protocol/transport"
)

// Server serves an http.Handler over HTTP/1.1, h2c or HTTP/2 with TLS. It
// implements transport.Server. Its methods are safe for concurrent use.
type Server struct {
	name    string
	addr    string
	tls     *tls.Config // nil for cleartext
	srv     *http.Server
	presetL net.Listener // from WithListener

	logger *slog.Logger // Config.Logger, for the accept loop

	baseCtx    context.Context
	cancelBase context.CancelFunc

	life transport.Lifecycle

	mu sync.Mutex
	ln net.Listener // set by Start
}

var _ transport.Server = (*Server)(nil)

// NewServer returns a server for h configured from cfg, which must name
// "http1", "h2c" or "h2". It validates the configuration and loads
// certificates but does not listen yet: call Start or Serve.
//
// "h2" needs a certificate (Config.TLS or Config.TLSConfig); "h2c" refuses
// one; "http1" serves HTTPS when given one. Config fields left at zero get
// the Default values of this package.
//
// Connection lifetimes and keep-alive, as far as net/http allows:
// IdleTimeout closes a connection without calls (HTTP/2: GOAWAY first);
// MaxConnectionAge and MaxConnectionAgeGrace are honoured through
// "Connection: close" (see lifetimes.go): HTTP/2 sends GOAWAY at the first
// call after the age and closes when its streams end, HTTP/1.1 closes after
// that response, and the grace then closes whatever is left, without
// GOAWAY if no call came since the age (net/http cannot send one
// unprompted);
// PingInterval and PingTimeout make HTTP/2 connections ping a silent client
// and close it if the ping goes unanswered. Not honoured: MinPingInterval
// (net/http's HTTP/2 server enforces no ping policy, so no GOAWAY
// too_many_pings) and PermitPingsWithoutCalls (nothing to permit without an
// enforcement); HTTP/1.1 has no pings.
func NewServer(cfg transport.Config, h http.Handler, opts ...ServerOption) (*Server, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("nethttp: NewServer with a nil handler")
	}
	var o serverOptions
	for _, opt := range opts {
		opt.applyServer(&o)
	}
	if cfg.Addr == "" && o.listener == nil {
		return nil, errors.New(`nethttp: Config.Addr is empty (use ":8080", or "127.0.0.1:0" for a free port)`)
	}
	if cfg.Addr != "" {
		if err := transport.CheckAddr(cfg.Addr); err != nil {
			return nil, err
		}
	}
	tlsConf, err := cfg.ServerTLSConfig()
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Name == transport.NameH2C && tlsConf != nil:
		return nil, errors.New(`nethttp: "h2c" is HTTP/2 without TLS but a TLS configuration is set; use "h2" for HTTP/2 over TLS`)
	case cfg.Name == transport.NameH2 && tlsConf == nil:
		return nil, errors.New(`nethttp: "h2" needs a certificate: set tls.cert_file and tls.key_file (or Config.TLSConfig); use "h2c" for HTTP/2 without TLS`)
	case tlsConf != nil && len(tlsConf.Certificates) == 0 && tlsConf.GetCertificate == nil && tlsConf.GetConfigForClient == nil:
		return nil, errors.New("nethttp: Config.TLSConfig has no certificate (Certificates, GetCertificate or GetConfigForClient)")
	}

	var protocols http.Protocols
	protocols.SetHTTP1(true)
	switch cfg.Name {
	case transport.NameH2C:
		protocols.SetUnencryptedHTTP2(true)
	case transport.NameH2:
		protocols.SetHTTP2(true)
	}

	s := &Server{
		name:    cfg.Name,
		addr:    cfg.Addr,
		tls:     tlsConf,
		presetL: o.listener,
		logger:  cfg.Logger,
	}
	s.life.Name = "nethttp: " + cfg.Name + " server"
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	errorLog := o.errorLog
	if errorLog == nil {
		// net/http's own reports, HTTP/2's included, go to Config.Logger.
		errorLog = cfg.ServerErrorLog()
	}
	s.srv = &http.Server{
		Handler:           originForm(typedBodies(h)),
		Protocols:         &protocols,
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(cfg.ReadTimeout, 0),
		WriteTimeout:      orDefault(cfg.WriteTimeout, 0),
		IdleTimeout:       orDefault(cfg.IdleTimeout, DefaultServerIdleTimeout),
		MaxHeaderBytes:    orDefaultInt(cfg.MaxHeaderBytes, DefaultMaxHeaderBytes),
		ErrorLog:          errorLog,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
	}
	if protocols.HTTP2() || protocols.UnencryptedHTTP2() {
		s.srv.HTTP2 = &http.HTTP2Config{
			MaxConcurrentStreams: max(cfg.MaxConcurrentStreams, 0),
			SendPingTimeout:      orDefault(cfg.PingInterval, 0),
			PingTimeout:          orDefault(cfg.PingTimeout, transport.DefaultPingTimeout),
		}
	}
	if cfg.MaxConnectionAge > 0 {
		s.srv.Handler = newLifetimes(time.Duration(cfg.MaxConnectionAge), max(time.Duration(cfg.MaxConnectionAgeGrace), 0)).install(s.srv, s.srv.Handler)
	}
	for _, hook := range o.hooks {
		hook(s.srv)
	}
	return s, nil
}

// Start listens on Config.Addr (or uses the WithListener listener) and
// serves in the background. Addr and URL are valid once it returns. It
// fails if the address cannot be bound, if the server was already
// started, or after Shutdown or Close.
func (s *Server) Start() error { return s.life.Start(s.listen) }

// Serve starts the server if Start has not been called, then blocks until
// it stops. It returns nil once Shutdown or Close has finished stopping
// it, and otherwise the error that stopped it.
func (s *Server) Serve() error { return s.life.Serve(s.listen) }

// listen binds the socket, whose Accept survives running out of file
// descriptors (transport.KeepAccepting), and returns the accept loop.
func (s *Server) listen() (func() error, error) {
	ln := s.presetL
	if ln == nil {
		var err error
		ln, err = transport.Listen("nethttp: "+s.name+" server", s.addr, s.logger)
		if err != nil {
			return nil, err
		}
	} else {
		ln = transport.KeepAccepting(ln, "nethttp: "+s.name+" server", s.logger)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return func() error {
		if s.tls != nil {
			// The certificates are in srv.TLSConfig; ServeTLS adds the ALPN
			// protocols that match srv.Protocols.
			return s.srv.ServeTLS(ln, "", "")
		}
		return s.srv.Serve(ln)
	}, nil
}

// Addr returns the address the server listens on, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL returns "http://host:port", or "https://host:port" when the server
// uses TLS, or "" before Start. A server listening on all interfaces
// reports the loopback address of the same family.
func (s *Server) URL() string {
	addr := s.Addr()
	if addr == nil {
		return ""
	}
	if s.tls != nil {
		return "https://" + transport.DialAddr(addr)
	}
	return "http://" + transport.DialAddr(addr)
}

// Shutdown stops the server gracefully. It closes the listener, closes
// idle connections, tells HTTP/2 clients to go away, and waits for the
// calls in flight, unary and streaming, to finish. If ctx ends first, it
// cancels the contexts of the remaining calls, closes their connections
// and returns ctx's error. Serve returns once Shutdown has finished.
//
// net/http gives an HTTP/2 client up to a second after the GOAWAY to close
// the connection itself, so Shutdown of a server with open HTTP/2
// connections takes about that long even when no call is in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	err := s.srv.Shutdown(ctx)
	if err != nil && ctx.Err() != nil {
		s.forceClose()
	}
	s.life.WaitServe()
	s.life.Finish()
	return err
}

// Close stops the server at once: it cancels the contexts of the calls in
// flight and closes every connection.
func (s *Server) Close() error {
	s.stop()
	err := s.forceClose()
	s.life.WaitServe()
	s.life.Finish()
	return err
}

// forceClose closes every connection, then cancels the base context for
// handlers that outlive their connection (hijacked ones). Closing first
// means a handler that returns when its context ends cannot get a
// response out: the calls fail rather than seeming to succeed.
func (s *Server) forceClose() error {
	err := s.srv.Close()
	s.cancelBase()
	return err
}

// HTTPServer returns the underlying *http.Server, for inspection. Change
// its settings with WithServerHook instead: changes made after Start may
// race with serving.
func (s *Server) HTTPServer() *http.Server { return s.srv }

// stop moves the server to its final state, closing a WithListener
// listener that was never served.
func (s *Server) stop() {
	s.life.Stop(func(was transport.ServerState) {
		if was == transport.StateNew && s.presetL != nil {
			_ = s.presetL.Close()
		}
	})
}

// String describes the server for logs, such as "h2 server on 127.0.0.1:8443".
func (s *Server) String() string {
	var b strings.Builder
	b.WriteString(s.name)
	b.WriteString(" server")
	if addr := s.Addr(); addr != nil {
		b.WriteString(" on ")
		b.WriteString(addr.String())
	}
	return b.String()
}

package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/transport"
)

// Server serves an http.Handler over HTTP/3, and optionally over HTTP/2 on
// the same port (see [WithHTTP2Companion]). It implements
// transport.Server. Its methods are safe for concurrent use.
type Server struct {
	addr      string
	tls       *tls.Config // ALPN h3
	srv       *http3.Server
	quicConf  *quic.Config
	early     bool           // listen for 0-RTT
	presetC   net.PacketConn // from WithPacketConn
	companion *companion     // nil without WithHTTP2Companion
	logger    *slog.Logger
	guard     *handshakeGuard // handshake.go

	life transport.Lifecycle

	mu   sync.Mutex         // after life's lock when both are held
	conn net.PacketConn     // set by Start
	qt   *quic.Transport    // on conn
	ln   http3.QUICListener // on qt

	draining atomic.Bool // set by Shutdown: new connections are refused
}

var _ transport.Server = (*Server)(nil)

// NewServer returns an HTTP/3 server for h configured from cfg, whose
// Name must be "h3" or empty. It validates the configuration and loads
// the certificate but does not listen yet: call Start or Serve.
//
// A server needs a certificate (Config.TLS or Config.TLSConfig); QUIC
// always uses TLS 1.3, whatever tls.min_version says. With
// tls.client_ca_file or tls.client_ca_pem it verifies client certificates,
// and with tls.require_client_cert it requires them (mutual TLS).
//
// Of the Config fields, Addr, TLS, TLSConfig, IdleTimeout (HTTP/3 idle
// connections), MaxHeaderBytes, MaxConcurrentStreams (request streams
// per connection), ReadTimeout and WriteTimeout (per request, off by
// default) apply. ReadHeaderTimeout does not: QUIC bounds silent peers by
// its own idle timeout (30 seconds without a packet). Fields left at zero
// get the Default values of this package.
//
// Connection lifetimes and keep-alive, as far as quic-go allows:
// MaxConnectionAge and MaxConnectionAgeGrace (see lifetimes.go: past its
// age a connection refuses new requests with H3_REQUEST_REJECTED, which
// clients send again elsewhere, and closes when IdleTimeout finds it idle
// or the grace is over; quic-go sends GOAWAY only on Shutdown); PingInterval
// (QUIC PING frames on a silent connection) and PingTimeout (with
// PingInterval, QUIC's idle timeout becomes PingInterval + PingTimeout: a
// peer silent that long is dead). Not honoured: MinPingInterval and
// PermitPingsWithoutCalls, since QUIC's PINGs are transport frames that
// quic-go answers below HTTP/3 and offers no policy for.
func NewServer(cfg transport.Config, h http.Handler, opts ...ServerOption) (*Server, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("h3: NewServer with a nil handler")
	}
	var o serverOptions
	for _, opt := range opts {
		opt.applyServer(&o)
	}
	if cfg.Addr == "" && o.packetConn == nil {
		return nil, errors.New(`h3: Config.Addr is empty (use ":8443", or "127.0.0.1:0" for a free port)`)
	}
	if cfg.Addr != "" {
		if err := transport.CheckAddr(cfg.Addr); err != nil {
			return nil, err
		}
	}
	if o.logger == nil {
		o.logger = cfg.Logger
	}
	tlsConf, err := cfg.ServerTLSConfig()
	if err != nil {
		return nil, err
	}
	switch {
	case tlsConf == nil:
		return nil, errors.New(`h3: HTTP/3 needs a certificate: set tls.cert_file and tls.key_file, or tls.cert_pem and tls.key_pem (or Config.TLSConfig)`)
	case len(tlsConf.Certificates) == 0 && tlsConf.GetCertificate == nil && tlsConf.GetConfigForClient == nil:
		return nil, errors.New("h3: Config.TLSConfig has no certificate (Certificates, GetCertificate or GetConfigForClient)")
	}
	tlsConf.MinVersion = tls.VersionTLS13
	if maxStreams := cfg.MaxConcurrentStreams; maxStreams < 0 {
		return nil, errors.New("h3: Config.MaxConcurrentStreams is negative")
	}

	s := &Server{
		addr:    cfg.Addr,
		tls:     http3.ConfigureTLSConfig(tlsConf),
		early:   o.allow0RTT || cfg.Allow0RTT,
		presetC: o.packetConn,
		logger:  o.logger,
		guard:   newHandshakeGuard(o.handshakes),
		quicConf: &quic.Config{
			MaxIncomingStreams: int64(orDefaultInt(cfg.MaxConcurrentStreams, DefaultMaxConcurrentStreams)),
			Allow0RTT:          o.allow0RTT || cfg.Allow0RTT,
			KeepAlivePeriod:    orDefault(cfg.PingInterval, 0),
			MaxIdleTimeout:     quicIdleTimeout(cfg),
		},
	}
	s.srv = &http3.Server{
		Handler:        withTimeouts(typedBodies(h), orDefault(cfg.ReadTimeout, 0), orDefault(cfg.WriteTimeout, 0)),
		TLSConfig:      s.tls,
		QUICConfig:     s.quicConf,
		MaxHeaderBytes: orDefaultInt(cfg.MaxHeaderBytes, DefaultMaxHeaderBytes),
		IdleTimeout:    orDefault(cfg.IdleTimeout, DefaultServerIdleTimeout),
		Logger:         o.logger,
	}
	for _, hook := range o.hooks {
		hook(s.srv, s.quicConf)
	}
	if cfg.MaxConnectionAge > 0 {
		// After the hooks, so that it wraps a ConnContext they set.
		s.srv.Handler = newLifetimes(time.Duration(cfg.MaxConnectionAge), max(time.Duration(cfg.MaxConnectionAgeGrace), 0)).install(s.srv, s.srv.Handler)
	}
	s.life.Name = "h3: h3 server"
	s.refuseWhenDraining()
	if o.companion {
		s.companion = newCompanion(cfg, tlsConf, h)
	}
	return s, nil
}

// errDraining refuses connection attempts during Shutdown.
var errDraining = errors.New("h3: server is shutting down")

// refuseWhenDraining makes the QUIC listener refuse new connections
// (CONNECTION_REFUSED) once Shutdown has begun, so that clients learn at
// once that they must go elsewhere. The listener itself stays open until
// Shutdown ends: closing it would leave the socket silent, and a client
// would wait for its handshake timeout.
func (s *Server) refuseWhenDraining() {
	next := s.quicConf.GetConfigForClient
	base := s.quicConf.Clone()
	base.GetConfigForClient = nil
	s.quicConf.GetConfigForClient = func(info *quic.ClientInfo) (*quic.Config, error) {
		if s.draining.Load() {
			return nil, errDraining
		}
		if next != nil {
			return next(info)
		}
		return base, nil
	}
}

// withTimeouts bounds each request's body reads and response writes, when
// asked to; zero leaves h as it is.
func withTimeouts(h http.Handler, read, write time.Duration) http.Handler {
	if read <= 0 && write <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		if read > 0 {
			_ = rc.SetReadDeadline(now.Add(read))
		}
		if write > 0 {
			_ = rc.SetWriteDeadline(now.Add(write))
		}
		h.ServeHTTP(w, r)
	})
}

// Start listens on Config.Addr (UDP, or the WithPacketConn socket, and TCP
// too with WithHTTP2Companion) and serves in the background. Addr and URL
// are valid once it returns. It fails if the address cannot be bound, if
// the server was already started, or after Shutdown or Close.
func (s *Server) Start() error { return s.life.Start(s.listen) }

// listen binds the sockets and returns the function that serves on them.
func (s *Server) listen() (func() error, error) {
	conn, err := s.bind()
	if err != nil {
		return nil, transport.ListenError(s.life.Name, s.addr, err)
	}
	qt := &quic.Transport{Conn: conn}
	s.guard.install(qt)
	var ln http3.QUICListener
	if s.early {
		ln, err = qt.ListenEarly(s.tls, s.quicConf)
	} else {
		ln, err = qt.Listen(s.tls, s.quicConf)
	}
	if err != nil {
		_ = qt.Close()
		_ = conn.Close()
		if s.companion != nil {
			_ = s.companion.ln.Close()
		}
		return nil, fmt.Errorf("h3: %w", err)
	}
	ln = guardedListener{ln}
	s.mu.Lock()
	s.conn, s.qt, s.ln = conn, qt, ln
	s.mu.Unlock()
	if s.companion != nil {
		s.companion.serve(s.logger)
	}
	return func() error { return s.srv.ServeListener(ln) }, nil
}

// bindAttempts is how often Start tries to find a port free on both UDP
// and TCP for a companion on port 0.
const bindAttempts = 20

// bind opens the UDP socket (or takes the WithPacketConn one) and, with a
// companion, the TCP listener on the same port. When the port is left to
// the system, the UDP port it picks may be taken on TCP: then it tries
// another.
func (s *Server) bind() (net.PacketConn, error) {
	if s.presetC != nil {
		if s.companion != nil {
			if err := s.companion.listen(s.presetC.LocalAddr()); err != nil {
				return nil, err
			}
		}
		return s.presetC, nil
	}
	var lastErr error
	for range bindAttempts {
		conn, err := net.ListenPacket("udp", s.addr)
		if err != nil {
			return nil, err
		}
		if s.companion == nil {
			return conn, nil
		}
		if lastErr = s.companion.listen(conn.LocalAddr()); lastErr == nil {
			return conn, nil
		}
		_ = conn.Close()
		if _, port, _ := net.SplitHostPort(s.addr); port != "0" {
			break // a fixed port: trying again would not help
		}
	}
	return nil, lastErr
}

// Serve starts the server if Start has not been called, then blocks until
// it stops. It returns nil once Shutdown or Close has finished stopping
// it, and otherwise the error that stopped it.
func (s *Server) Serve() error { return s.life.Serve(s.listen) }

// Addr returns the UDP address the server listens on, or nil before
// Start. With WithHTTP2Companion, the TCP companion listens on the same
// IP and port.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	return s.conn.LocalAddr()
}

// URL returns "https://host:port", or "" before Start. A server listening
// on all interfaces reports the loopback address of the same family.
func (s *Server) URL() string {
	addr := s.Addr()
	if addr == nil {
		return ""
	}
	return "https://" + transport.DialAddr(addr)
}

// Shutdown stops the server gracefully. It refuses new connections,
// sends GOAWAY on every connection so clients open no new streams, lets the
// calls in flight, unary and streaming, finish in both directions, and
// returns once every client has closed its connection (clients close as
// soon as their last stream after the GOAWAY ends). If ctx ends first, it
// closes the remaining connections, which cancels their calls' contexts,
// and returns ctx's error. The UDP socket is closed before Shutdown
// returns. Serve returns once Shutdown has finished.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.stop()
	var companionErr error
	companionDone := make(chan struct{})
	go func() {
		defer close(companionDone)
		if s.companion != nil {
			companionErr = s.companion.shutdown(ctx)
		}
	}()
	err := s.srv.Shutdown(ctx)
	<-companionDone
	s.release()
	s.markStopped()
	if err == nil {
		err = companionErr
	}
	return err
}

// Close stops the server at once: it closes every connection, which
// cancels the contexts of the calls in flight, and the UDP socket. It
// waits for the handlers of those calls to return.
func (s *Server) Close() error {
	s.draining.Store(true)
	s.stop()
	err := s.srv.Close()
	if s.companion != nil {
		if cerr := s.companion.close(); err == nil {
			err = cerr
		}
	}
	s.release()
	s.markStopped()
	return err
}

// stop moves the server to its final state; a WithPacketConn socket that
// was never served is closed here.
func (s *Server) stop() {
	s.life.Stop(func(was transport.ServerState) {
		if was == transport.StateNew && s.presetC != nil {
			_ = s.presetC.Close()
		}
	})
}

// release closes the listener, the QUIC transport and the UDP socket, once
// the HTTP/3 server has let go of its connections.
func (s *Server) release() {
	s.mu.Lock()
	ln, qt, conn := s.ln, s.qt, s.conn
	s.mu.Unlock()
	if qt == nil {
		return
	}
	s.life.WaitServe() // ServeListener has returned: nothing accepts any more
	_ = ln.Close()
	_ = qt.Close()
	_ = conn.Close()
}

func (s *Server) markStopped() { s.life.Finish() }

// HTTP3Server returns the underlying *http3.Server, for inspection. Change
// its settings with WithServerHook instead: changes made after Start may
// race with serving.
func (s *Server) HTTP3Server() *http3.Server { return s.srv }

// String describes the server for logs, such as "h3 server on 127.0.0.1:8443".
func (s *Server) String() string {
	var b strings.Builder
	b.WriteString("h3 server")
	if addr := s.Addr(); addr != nil {
		b.WriteString(" on ")
		b.WriteString(addr.String())
	}
	return b.String()
}

// quicIdleTimeout is QUIC's MaxIdleTimeout for cfg: with a PingInterval and
// a PingTimeout, a peer that answers nothing for their sum is dead; else
// quic-go's default (zero).
func quicIdleTimeout(cfg transport.Config) time.Duration {
	interval, timeout := orDefault(cfg.PingInterval, 0), orDefault(cfg.PingTimeout, 0)
	if interval <= 0 || timeout <= 0 {
		return 0
	}
	return interval + timeout
}

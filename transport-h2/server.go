package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"polyconnect.dev/protocol/transport"
)

// ErrServerClosed is returned by Start after Shutdown or Close. It is
// transport.ErrServerClosed (http.ErrServerClosed).
var ErrServerClosed = transport.ErrServerClosed

// Server serves an http.Handler over HTTP/2 with this package's engine:
// cleartext with prior knowledge ("h2c-rpc") or over TLS with ALPN
// ("h2-rpc"). HTTP/1.x connections on the same port go to a net/http
// server for the same handler, unless WithoutHTTP1 is given. It implements
// transport.Server; its methods are safe for concurrent use.
type Server struct {
	name    string
	addr    string
	handler http.Handler
	tls     *tls.Config
	presetL net.Listener
	logger  *log.Logger  // WithErrorLog, or Config.Logger's
	slogger *slog.Logger // Config.Logger, for the accept loop
	lim     limits
	idle    time.Duration
	readTO  time.Duration
	// headerBudget bounds the request headers a connection holds for its
	// streams in flight.
	headerBudget int64
	writeTO      time.Duration

	workers workers // goroutines that run handlers

	// h1 takes the HTTP/1.x connections (one-port mode); nil with
	// WithoutHTTP1.
	h1 *http1Side

	life     transport.Lifecycle
	stopOnce sync.Once

	mu    sync.Mutex // after life's lock when both are held
	ln    net.Listener
	conns map[*serverConn]struct{}
}

var _ transport.Server = (*Server)(nil)

// NewServer returns a server for h configured from cfg, which must name
// "h2c-rpc" or "h2-rpc". It validates the configuration and loads
// certificates but does not listen yet: call Start or Serve.
//
// "h2-rpc" needs a certificate (Config.TLS or Config.TLSConfig); "h2c-rpc"
// refuses one. Config fields left at zero get this package's Default
// values; ReadHeaderTimeout bounds the handshake and each header block,
// ReadTimeout and WriteTimeout (off by default) bound each stream's request
// and response from the stream's start, IdleTimeout closes connections
// without streams, MaxHeaderBytes and MaxConcurrentStreams are advertised
// in SETTINGS and enforced.
func NewServer(cfg transport.Config, h http.Handler, opts ...ServerOption) (*Server, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("h2: NewServer with a nil handler")
	}
	var o serverOptions
	o.flowControlTimeout, o.bdp = DefaultFlowControlTimeout, true
	for _, opt := range opts {
		opt.applyServer(&o)
	}
	if cfg.Addr == "" && o.listener == nil {
		return nil, errors.New(`h2: Config.Addr is empty (use ":8080", or "127.0.0.1:0" for a free port)`)
	}
	if cfg.Addr != "" && o.listener == nil {
		if err := transport.CheckAddr(cfg.Addr); err != nil {
			return nil, err
		}
	}
	tlsConf, err := cfg.ServerTLSConfig()
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Name == NameH2C && tlsConf != nil:
		return nil, fmt.Errorf("h2: %q is HTTP/2 without TLS but a TLS configuration is set; use %q for HTTP/2 over TLS", NameH2C, NameH2)
	case cfg.Name == NameH2 && tlsConf == nil:
		return nil, fmt.Errorf("h2: %q needs a certificate: set tls.cert_file and tls.key_file (or Config.TLSConfig); use %q for HTTP/2 without TLS", NameH2, NameH2C)
	case tlsConf != nil && len(tlsConf.Certificates) == 0 && tlsConf.GetCertificate == nil && tlsConf.GetConfigForClient == nil:
		return nil, errors.New("h2: Config.TLSConfig has no certificate (Certificates, GetCertificate or GetConfigForClient)")
	}
	if tlsConf != nil {
		prepareTLS(tlsConf)
		if !o.noHTTP1 {
			tlsConf.NextProtos = append(tlsConf.NextProtos, "http/1.1")
		}
	}
	maxHeader := orDefaultInt(cfg.MaxHeaderBytes, DefaultMaxHeaderBytes)
	maxStreams := orDefaultInt(cfg.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	ka, err := keepaliveConfig(cfg, o.pingInterval, o.pingTimeout, true)
	if err != nil {
		return nil, err
	}
	if maxHeader < 0 || maxStreams < 0 {
		return nil, errors.New("h2: MaxHeaderBytes and MaxConcurrentStreams may not be negative")
	}
	s := &Server{
		name:    cfg.Name,
		addr:    cfg.Addr,
		handler: h,
		tls:     tlsConf,
		presetL: o.listener,
		logger:  o.errorLog,
		slogger: cfg.Logger,
		idle:    orDefault(cfg.IdleTimeout, DefaultServerIdleTimeout),
		readTO:  orDefault(cfg.ReadTimeout, 0),
		writeTO: orDefault(cfg.WriteTimeout, 0),
		conns:   make(map[*serverConn]struct{}),
		lim: limits{
			maxHeaderList:       uint32(min(maxHeader, 1<<30)),
			maxReadFrame:        defaultMaxReadFrame,
			maxConcurrent:       uint32(min(maxStreams, 1<<31-1)),
			streamWindow:        o.streamWindow(),
			connWindow:          o.connWindow(),
			maxStreamWindow:     maxStreamWindow,
			maxConnWindow:       maxConnWindow,
			bdp:                 o.bdp,
			handshakeTimeout:    orDefault(cfg.ReadHeaderTimeout, DefaultHandshakeTimeout),
			keepalive:           ka,
			flowControlTimeout:  o.flowControlTimeout,
			writeStallTimeout:   o.writeStallTimeout,
			maxStreamSendBuffer: defaultStreamSendBuffer,
			connBufferLimit:     o.connBufferLimit(),
		},
	}
	s.lim.idleTimeout = s.idle
	if s.logger == nil {
		// What the server reports on its own (handler panics, failed
		// handshakes) goes where Config.Logger says, as on every transport.
		s.logger = cfg.ServerErrorLog()
	}
	s.life.Name = "h2: " + cfg.Name + " server"
	s.headerBudget = max(minConnHeaderBudget, 4*int64(s.lim.maxHeaderList))
	if !o.noHTTP1 {
		s.h1 = newHTTP1Side(cfg, h, s, maxHeader)
	}
	return s, nil
}

// Windows, frame and buffer sizes.
const (
	defaultMaxReadFrame     = 16 << 10
	defaultStreamWindow     = 256 << 10
	defaultConnWindow       = 1 << 20
	maxStreamWindow         = 8 << 20
	maxConnWindow           = 16 << 20
	defaultStreamSendBuffer = 64 << 10
	// minConnHeaderBudget is the least memory a connection may spend on
	// the request headers of its streams in flight: 250 streams (the
	// default limit) with 128 KiB of headers each. The budget is four
	// times MaxHeaderBytes when that is more.
	minConnHeaderBudget = 32 << 20
)

// prepareTLS sets what HTTP/2 needs on a server or client TLS
// configuration: ALPN "h2", TLS 1.2 at least, and with TLS 1.2 only the
// cipher suites HTTP/2 allows (ECDHE with AEAD), unless the configuration
// chose its own.
func prepareTLS(c *tls.Config) {
	c.NextProtos = []string{"h2"}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	if c.CipherSuites == nil {
		c.CipherSuites = []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		}
	}
}

// Start listens on Config.Addr (or uses the WithListener listener) and
// serves in the background. Addr and URL are valid once it returns. It
// fails if the address cannot be bound, if the server was already started,
// or after Shutdown or Close.
func (s *Server) Start() error { return s.life.Start(s.listen) }

// Serve starts the server if Start has not been called, then blocks until
// it stops. It returns nil once Shutdown or Close has finished stopping it,
// and otherwise the error that stopped it.
func (s *Server) Serve() error { return s.life.Serve(s.listen) }

// listen binds the socket, whose Accept survives running out of file
// descriptors and other passing failures (transport.KeepAccepting), and
// returns the accept loop.
func (s *Server) listen() (func() error, error) {
	ln := s.presetL
	if ln == nil {
		var err error
		ln, err = transport.Listen("h2: "+s.name+" server", s.addr, s.slogger)
		if err != nil {
			return nil, err
		}
	} else {
		ln = transport.KeepAccepting(ln, "h2: "+s.name+" server", s.slogger)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	if s.h1 != nil {
		s.h1.serve(ln.Addr())
	}
	return func() error { return s.acceptLoop(ln) }, nil
}

// acceptLoop accepts connections until the listener is closed or fails
// for good; passing failures are retried inside ln.
func (s *Server) acceptLoop(ln net.Listener) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		sc := s.newServerConn(nc)
		if sc == nil {
			_ = nc.Close()
			continue
		}
		go sc.serve()
	}
}

// track adds or removes a connection; it refuses new ones once stopped.
func (s *Server) track(sc *serverConn, add bool) bool {
	if add {
		return s.life.Active(func() {
			s.mu.Lock()
			s.conns[sc] = struct{}{}
			s.mu.Unlock()
		})
	}
	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
	return true
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

// URL returns "http://host:port", or "https://host:port" for "h2-rpc", or
// "" before Start. A server listening on all interfaces reports the
// loopback address of the same family.
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

// Shutdown stops the server gracefully. It closes the listener and tells
// every client GOAWAY in two steps: first that no new streams will be
// taken after what is in flight (last stream ID 2^31-1) together with a
// PING, and once the PING comes back (or after a second) the last stream ID
// it will process, so that no request the client sent in the meantime is
// lost. Streams in flight, unary and streaming, keep working in both
// directions until they end; each connection closes when its last stream
// does. If ctx ends first, Shutdown cancels the remaining streams, closes
// their connections and returns ctx's error. HTTP/1.x connections stop as
// with net/http's Server.Shutdown: idle ones close at once, the others once
// their request is answered. Serve returns once Shutdown has finished.
func (s *Server) Shutdown(ctx context.Context) error {
	conns := s.stop()
	for _, sc := range conns {
		sc.shutdown()
	}
	h1Err := make(chan error, 1)
	if s.h1 != nil {
		go func() { h1Err <- s.h1.shutdown(ctx) }()
	} else {
		h1Err <- nil
	}
	var err error
	for _, sc := range conns {
		select {
		case <-sc.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
	}
	if err != nil {
		s.closeAll()
	}
	if e := <-h1Err; err == nil {
		err = e
	}
	s.waitServe()
	s.markStopped()
	return err
}

// Close stops the server at once: it closes the listener and every
// connection, HTTP/1.x ones included, which cancels the contexts of the
// streams and requests in flight.
func (s *Server) Close() error {
	s.stop()
	if s.h1 != nil {
		s.h1.close()
	}
	s.closeAll()
	s.waitServe()
	s.markStopped()
	return nil
}

// stop closes the listener and returns the connections open at that time.
func (s *Server) stop() []*serverConn {
	var conns []*serverConn
	s.life.Stop(func(was transport.ServerState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if was == transport.StateNew && s.presetL != nil {
			_ = s.presetL.Close()
		}
		if s.ln != nil {
			_ = s.ln.Close()
		}
		conns = make([]*serverConn, 0, len(s.conns))
		for sc := range s.conns {
			conns = append(conns, sc)
		}
	})
	return conns
}

// closeAll closes every connection, including any accepted while stopping.
func (s *Server) closeAll() {
	s.mu.Lock()
	conns := make([]*serverConn, 0, len(s.conns))
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	s.mu.Unlock()
	for _, sc := range conns {
		sc.close()
	}
	for _, sc := range conns {
		<-sc.done
	}
}

var errServerClosing = errors.New("h2: server closed")

func (s *Server) waitServe() { s.life.WaitServe() }

func (s *Server) markStopped() {
	s.stopOnce.Do(s.workers.close)
	s.life.Finish()
}

// String describes the server for logs, such as "h2-rpc server on
// 127.0.0.1:8443".
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

func (s *Server) logf(format string, args ...any) {
	if s.logger != nil {
		s.logger.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// handshake runs the TLS handshake (for "h2-rpc") and reads the client
// preface, within the handshake timeout. It returns a nil connection and
// no error for a connection it handed to the HTTP/1.x side (one-port
// mode). Without that side, a client that speaks HTTP/1.1 gets a plain
// answer saying this server speaks HTTP/2 only.
func (s *Server) handshake(nc net.Conn) (net.Conn, *tls.ConnectionState, error) {
	deadline := time.Time{}
	if s.lim.handshakeTimeout > 0 {
		deadline = time.Now().Add(s.lim.handshakeTimeout)
	}
	_ = nc.SetDeadline(deadline)
	var state *tls.ConnectionState
	if s.tls != nil {
		tc := tls.Server(nc, s.tls)
		if err := tc.Handshake(); err != nil {
			return nil, nil, fmt.Errorf("TLS handshake: %w", err)
		}
		st := tc.ConnectionState()
		switch {
		case st.NegotiatedProtocol == "http/1.1" && s.h1 != nil:
			s.handToHTTP1(tc)
			return nil, nil, nil
		case st.NegotiatedProtocol != "h2" && st.NegotiatedProtocol != "":
			return nil, nil, fmt.Errorf("the client negotiated %q, not h2", st.NegotiatedProtocol)
		}
		state = &st
		nc = tc
	}
	var preface [len(http2.ClientPreface)]byte
	if s.h1 != nil && (state == nil || state.NegotiatedProtocol == "") {
		// Read no further than the preface, and stop at the first byte
		// that differs from it: an HTTP/1.x request may be shorter.
		n := 0
		for n < len(preface) {
			m, err := nc.Read(preface[n:])
			n += m
			if string(preface[:n]) != http2.ClientPreface[:n] {
				return s.sniffHTTP1(nc, preface[:n], state)
			}
			if err != nil && n < len(preface) {
				return nil, nil, fmt.Errorf("read the client preface: %w", err)
			}
		}
	} else if _, err := io.ReadFull(nc, preface[:]); err != nil {
		return nil, nil, fmt.Errorf("read the client preface: %w", err)
	}
	if string(preface[:]) != http2.ClientPreface {
		if looksLikeHTTP1(preface[:]) {
			_, _ = io.WriteString(nc, "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 62\r\n\r\nThis server speaks HTTP/2 only, with prior knowledge (h2c).\r\n\r\n")
		}
		return nil, nil, errors.New("the client did not send the HTTP/2 preface")
	}
	// The handshake timeout keeps running until the client's SETTINGS
	// arrive: the connection clears the deadline then.
	_ = nc.SetWriteDeadline(time.Time{})
	return nc, state, nil
}

// looksLikeHTTP1 reports whether b starts like an HTTP/1.x request line.
func looksLikeHTTP1(b []byte) bool {
	for _, m := range []string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "} {
		if strings.HasPrefix(string(b), m) {
			return true
		}
	}
	return false
}

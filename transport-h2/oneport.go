package h2

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"polyconnect.dev/protocol/transport"
)

// The one-port mode: a server serves HTTP/2 on this package's engine and
// hands every HTTP/1.x connection on the same port to a net/http server
// for the same handler, so that browsers, curl and HTTP/1.1 clients reach
// the service where HTTP/2 clients do. Which protocol a connection speaks
// is decided once, before any request: over TLS by ALPN ("h2" or
// "http/1.1"), in cleartext by whether its first bytes are the HTTP/2
// connection preface. WithoutHTTP1 turns the mode off.

// http1Side is the net/http server that takes a one-port server's HTTP/1.x
// connections, and the listener that yields them to it.
type http1Side struct {
	srv   *http.Server
	queue *connQueue

	startOnce sync.Once
	served    chan struct{} // closed when srv.Serve returns, if it ran
	started   bool          // guarded by startOnce
	mu        sync.Mutex    // guards started for readers
}

// newHTTP1Side returns the HTTP/1.x side of a server for h: net/http with
// the server's header timeout (which also bounds a slow request line),
// idle timeout, per-request timeouts and header limit.
func newHTTP1Side(cfg transport.Config, h http.Handler, s *Server, maxHeader int) *http1Side {
	side := &http1Side{queue: newConnQueue(), served: make(chan struct{})}
	var protocols http.Protocols
	protocols.SetHTTP1(true) // never HTTP/2 on net/http: the engine has it
	side.srv = &http.Server{
		Handler:           tlsStateHandler{h},
		ReadHeaderTimeout: s.lim.handshakeTimeout,
		ReadTimeout:       s.readTO,
		WriteTimeout:      s.writeTO,
		IdleTimeout:       s.idle,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          s.logger,
		Protocols:         &protocols,
		ConnContext:       connTLSContext,
	}
	return side
}

// serve runs the net/http server on the queue until it is shut down. It
// is called once, when the engine starts listening.
func (side *http1Side) serve(addr net.Addr) {
	side.startOnce.Do(func() {
		side.queue.setAddr(addr)
		side.mu.Lock()
		side.started = true
		side.mu.Unlock()
		go func() {
			defer close(side.served)
			_ = side.srv.Serve(side.queue)
		}()
	})
}

// wait returns once the net/http server's Serve has returned, if it ran.
func (side *http1Side) wait() {
	side.mu.Lock()
	started := side.started
	side.mu.Unlock()
	if started {
		<-side.served
	}
}

// shutdown stops the HTTP/1.x side gracefully: no new connections, idle
// ones closed, requests in flight finish (net/http's Shutdown).
func (side *http1Side) shutdown(ctx context.Context) error {
	err := side.srv.Shutdown(ctx)
	if err != nil {
		_ = side.srv.Close()
	}
	side.queue.Close()
	side.wait()
	return err
}

// close stops the HTTP/1.x side at once.
func (side *http1Side) close() {
	_ = side.srv.Close()
	side.queue.Close()
	side.wait()
}

// connQueue is the net.Listener the HTTP/1.x side accepts from: the engine
// hands it connections after deciding they speak HTTP/1.x.
type connQueue struct {
	ch        chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	addr      net.Addr
}

func newConnQueue() *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{})}
}

// hand gives nc to the HTTP/1.x side; it reports false, and nc stays the
// caller's, if the side has stopped.
func (q *connQueue) hand(nc net.Conn) bool {
	select {
	case <-q.done:
		return false
	default:
	}
	select {
	case q.ch <- nc:
		return true
	case <-q.done:
		return false
	}
}

// Accept returns the next connection handed over, or net.ErrClosed once
// the queue is closed.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case nc := <-q.ch:
		return nc, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept; connections not yet handed stay with the engine,
// which closes them.
func (q *connQueue) Close() error {
	q.closeOnce.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) setAddr(addr net.Addr) {
	q.mu.Lock()
	q.addr = addr
	q.mu.Unlock()
}

// Addr returns the engine's listening address.
func (q *connQueue) Addr() net.Addr {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.addr == nil {
		return &net.TCPAddr{}
	}
	return q.addr
}

// replayConn is a connection whose first bytes were read to tell HTTP/1.x
// from HTTP/2: Read returns them again before reading on.
type replayConn struct {
	net.Conn
	pending []byte
	tls     *tls.ConnectionState // when the bytes came over TLS without ALPN
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the connection when the one underneath can, so
// that net/http's lingering close works as on its own listener.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// tlsStateKey carries, on a connection's context, the TLS state of a
// connection net/http cannot see as a *tls.Conn (a TLS client without
// ALPN whose first bytes were read).
type tlsStateKey struct{}

func connTLSContext(ctx context.Context, nc net.Conn) context.Context {
	if rc, ok := nc.(*replayConn); ok && rc.tls != nil {
		return context.WithValue(ctx, tlsStateKey{}, rc.tls)
	}
	return ctx
}

// tlsStateHandler sets Request.TLS for requests on such connections, so
// that handlers see TLS whichever way the connection was handed over.
type tlsStateHandler struct{ h http.Handler }

func (t tlsStateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		if st, ok := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState); ok {
			r.TLS = st
		}
	}
	t.h.ServeHTTP(w, r)
}

// sniffHTTP1 reads on from the first bytes of a connection that are not
// the HTTP/2 preface until its first line is complete (within the
// handshake deadline and the header limit), and hands the connection to
// the HTTP/1.x side if that line is an HTTP/1.x request line. Anything
// else is neither HTTP/2 nor HTTP/1.x, and the connection is closed, as
// RFC 9113 asks of an invalid preface.
func (s *Server) sniffHTTP1(nc net.Conn, first []byte, state *tls.ConnectionState) (net.Conn, *tls.ConnectionState, error) {
	errNeither := errors.New("the client sent neither the HTTP/2 preface nor an HTTP/1.x request line")
	limit := max(int(s.lim.maxHeaderList), 4<<10)
	buf := append(make([]byte, 0, 1<<10), first...)
	scanned := 0 // buf[:scanned] holds no line end
	for bytes.IndexByte(buf[scanned:], '\n') < 0 {
		scanned = len(buf)
		if len(buf) >= limit {
			return nil, nil, errNeither
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(len(buf), limit-len(buf)))
		}
		m, err := nc.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+m]
		if err != nil && bytes.IndexByte(buf[scanned:], '\n') < 0 {
			return nil, nil, fmt.Errorf("read the first line: %w", err)
		}
	}
	line, _, _ := bytes.Cut(buf, []byte("\n"))
	if !isHTTP1RequestLine(bytes.TrimSuffix(line, []byte("\r"))) {
		return nil, nil, errNeither
	}
	s.handToHTTP1(&replayConn{Conn: nc, pending: buf, tls: state})
	return nil, nil, nil
}

// isHTTP1RequestLine reports whether line is "METHOD TARGET HTTP/1.x", with
// a method of token characters.
func isHTTP1RequestLine(line []byte) bool {
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(method) == 0 {
		return false
	}
	for _, c := range method {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte("\"(),/:;<=>?@[\\]{}"), c) >= 0 {
			return false
		}
	}
	i := bytes.LastIndexByte(rest, ' ')
	if i <= 0 {
		return false
	}
	version := rest[i+1:]
	return len(version) == len("HTTP/1.1") && bytes.HasPrefix(version, []byte("HTTP/1."))
}

// handToHTTP1 gives a connection that speaks HTTP/1.x to the net/http
// side, with the handshake deadline cleared (net/http sets its own), or
// closes it if that side has stopped.
func (s *Server) handToHTTP1(nc net.Conn) {
	_ = nc.SetDeadline(time.Time{})
	if !s.h1.queue.hand(nc) {
		_ = nc.Close()
	}
}

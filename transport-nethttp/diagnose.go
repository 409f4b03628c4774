package nethttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"polyconnect.dev/protocol/transport"
)

// This file turns the failures of a client that reached a server speaking
// another protocol into errors that say so. net/http reports such a
// mismatch as whatever broke first: "unexpected EOF", "connection reset by
// peer", "http2: client conn could not be established", or a 400 response
// from a TLS server. The errors here name the server, what it did, and the
// transport that would work.

// wrongServerError says that a client reached a server that does not speak
// its protocol, and which transport would.
type wrongServerError struct {
	name, addr, what, fix string
	silent                bool // the server only closed the connection: maybe a TLS port
}

func (e *wrongServerError) Error() string {
	return "nethttp: " + e.name + " client: the server at " + e.addr + " " + e.what + "; " + e.fix
}

// tlsPortError is the diagnosis of a cleartext request to a TLS port.
func tlsPortError(name, addr, evidence string) *wrongServerError {
	fix := `use https: set tls in the client config (the "h2" transport, or "http1" with tls)`
	if name == transport.NameH2C {
		fix = `use "h2", HTTP/2 over TLS (https)`
	}
	return &wrongServerError{name: name, addr: addr, what: "is a TLS port (" + evidence + ")", fix: fix}
}

// probeTimeout bounds the TLS handshake that tells whether a server that
// closed a cleartext connection is a TLS port. It runs only after a
// failure, so it may take its time on a loaded machine.
const probeTimeout = 5 * time.Second

// diagnoses remembers, per address, what the last connection a cleartext
// client opened there learnt from its first bytes. net/http does not always
// pass a connection's read error on (a connection that dies before its
// first request reports only "http2: client conn could not be
// established"), so Client.Do looks the reason up here when a request
// fails.
type diagnoses struct {
	name string
	dial func(ctx context.Context, network, addr string) (net.Conn, error) // unwrapped, for probes
	m    sync.Map                                                          // address → *wrongServerError
}

// wrap returns a dial function whose connections diagnose their server.
// h2c connections fail at first bytes that are not HTTP/2; http1
// connections only watch for a TLS server's complaint about cleartext, and
// change nothing.
func (d *diagnoses) wrap() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		d.m.Delete(addr) // a new attempt: forget the last one
		return &diagnosingConn{Conn: conn, addr: addr, diagnoses: d, observeOnly: d.name != transport.NameH2C}, nil
	}
}

// explain returns an error that says what is wrong with the server of a
// cleartext request that failed with err, or nil if there is nothing to
// add.
func (d *diagnoses) explain(ctx context.Context, u *url.URL, err error) error {
	if u.Scheme != "http" {
		return nil
	}
	addr := hostPort(u)
	var wrong *wrongServerError
	if v, ok := d.m.Load(addr); ok {
		wrong = v.(*wrongServerError)
	} else {
		errors.As(err, &wrong)
	}
	if wrong != nil && !wrong.silent {
		return wrong
	}
	if wrong != nil || closedByPeer(err) {
		// The server closed the connection without an answer we could
		// read, as TLS servers do with cleartext: ask it for TLS.
		if d.speaksTLS(ctx, addr) {
			return tlsPortError(d.name, addr, "it completed a TLS handshake")
		}
	}
	if wrong != nil {
		return wrong
	}
	return nil
}

// speaksTLS reports whether the server at addr completes a TLS handshake.
// The probe sends nothing after the handshake and trusts nothing it learns:
// it only tells a TLS port from a broken one.
func (d *diagnoses) speaksTLS(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := d.dial(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	conf := &tls.Config{InsecureSkipVerify: true}
	if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) == nil {
		conf.ServerName = host
	}
	return tls.Client(conn, conf).HandshakeContext(ctx) == nil
}

// hostPort is the address a request to u dials.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// diagnosingConn watches the first bytes a cleartext client receives. An
// HTTP/2 server starts with a SETTINGS frame; a TLS server sends an alert
// or closes the connection at cleartext it does not take for HTTP/1, or
// answers HTTP/1 with a 400 text; an HTTP/1 server answers in text.
//
// Reads come from the connection's single reader; a write error is
// diagnosed only while nothing was received, which the started flag, set
// once, tells.
type diagnosingConn struct {
	net.Conn
	addr        string
	diagnoses   *diagnoses
	observeOnly bool        // http1: record a diagnosis, change nothing
	started     atomic.Bool // something was received: nothing more to diagnose
}

func (c *diagnosingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.started.Load() {
		return n, err
	}
	if c.observeOnly {
		if n > 0 {
			c.started.Store(true)
			if bytes.HasPrefix(p[:n], []byte("HTTP/1.0 400 ")) && bytes.Contains(p[:n], tlsPortBody) {
				c.record(tlsPortError(c.diagnoses.name, c.addr, "it answered \""+string(tlsPortBody)+"\""))
			}
		}
		return n, err
	}
	if n > 0 {
		c.started.Store(true)
		if wrong := c.diagnose(p[:n]); wrong != nil {
			return 0, c.record(wrong)
		}
		return n, err
	}
	if closedByPeer(err) {
		return 0, c.record(c.silentClose())
	}
	return n, err
}

func (c *diagnosingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && !c.observeOnly && !c.started.Load() && closedByPeer(err) {
		return n, c.record(c.silentClose())
	}
	return n, err
}

// record remembers wrong for the address and returns it.
func (c *diagnosingConn) record(wrong *wrongServerError) error {
	c.diagnoses.m.Store(c.addr, wrong)
	return wrong
}

// silentClose is the diagnosis of a server that closed an h2c connection
// at the preface; explain refines it with a TLS probe.
func (c *diagnosingConn) silentClose() *wrongServerError {
	return &wrongServerError{
		name:   transport.NameH2C,
		addr:   c.addr,
		what:   "closed the connection at the HTTP/2 preface without a word",
		fix:    `it does not speak h2c: if it is a TLS port, use "h2" (https); if it speaks HTTP/1.1 only, use "http1"`,
		silent: true,
	}
}

// diagnose looks at the first bytes an h2c connection received.
func (c *diagnosingConn) diagnose(b []byte) *wrongServerError {
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/1.")):
		return &wrongServerError{
			name: transport.NameH2C, addr: c.addr,
			what: "answered in HTTP/1.x, not HTTP/2",
			fix:  `it does not speak h2c (HTTP/2 without TLS): use "http1", or serve with "h2c"`,
		}
	case len(b) >= 2 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03:
		// A TLS record, an alert or a handshake message: an HTTP/2
		// SETTINGS frame that long cannot be.
		return tlsPortError(transport.NameH2C, c.addr, "it answered with TLS")
	}
	return nil
}

// closedByPeer reports whether err means the other side closed or reset
// the connection.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// tlsPortBody starts the body Go's TLS servers, and others, send to a
// client that spoke cleartext HTTP to them.
var tlsPortBody = []byte("Client sent an HTTP request to an HTTPS server")

// checkPlainToTLS looks at a 400 HTTP/1.0 response to a cleartext request:
// if it is a TLS server's complaint, the error says to use https; anything
// else is returned unchanged, body included.
func checkPlainToTLS(name, addr string, res *http.Response) (*http.Response, error) {
	head := make([]byte, len(tlsPortBody))
	n, err := io.ReadFull(res.Body, head)
	head = head[:n]
	if bytes.Equal(head, tlsPortBody) {
		res.Body.Close()
		return nil, tlsPortError(name, addr, "it answered \""+string(tlsPortBody)+"\"")
	}
	var rest io.Reader = res.Body
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		rest = http.NoBody // the body was shorter than head: all of it is in head
	case err != nil:
		rest = errorReader{err}
	}
	res.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(head), rest), Closer: res.Body}
	return res, nil
}

// readCloser joins a reader to the closer of the body it came from.
type readCloser struct {
	io.Reader
	io.Closer
}

// errorReader fails every read with err.
type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

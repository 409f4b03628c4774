package nethttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
)

// wrongServerError says that a client reached a server that does not speak
// its protocol, and which transport would.
type wrongServerError struct {
	name, addr, what, fix string
}

func (e *wrongServerError) Error() string {
	return "nethttp: " + e.name + " client: the server at " + e.addr + " " + e.what + "; " + e.fix
}

// diagnoses remembers, per address, why the last connection an h2c client
// opened there failed to start. net/http does not always pass a
// connection's read error on (a connection that dies before its first
// request reports only "http2: client conn could not be established"), so
// Client.Do looks the reason up here when a request fails.
type diagnoses struct{ m sync.Map } // address → *wrongServerError

// lookup returns the diagnosis for the server of u, if any.
func (d *diagnoses) lookup(u *url.URL) *wrongServerError {
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80") // h2c URLs are http
	}
	if v, ok := d.m.Load(addr); ok {
		return v.(*wrongServerError)
	}
	return nil
}

// dial wraps an h2c client's dial function so that its connections
// diagnose a server that does not answer in HTTP/2.
func (d *diagnoses) dial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		d.m.Delete(addr) // a new attempt: forget the last one
		return &diagnosingConn{Conn: conn, addr: addr, diagnoses: d}, nil
	}
}

// diagnosingConn watches the first bytes an h2c client receives. An HTTP/2
// server starts with a SETTINGS frame; a TLS server sends an alert or
// closes the connection at the cleartext preface, and an HTTP/1 server
// answers in text. Without this, net/http reports "unexpected EOF",
// "connection reset by peer" or "client conn could not be established",
// none of which says that the port speaks another protocol.
//
// Reads come from the connection's single reader; a write error is
// diagnosed only while nothing was received, which the started flag,
// set once, tells.
type diagnosingConn struct {
	net.Conn
	addr      string
	diagnoses *diagnoses
	started   atomic.Bool // something was received: nothing more to diagnose
}

func (c *diagnosingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.started.Load() {
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
		return 0, c.record(c.silent())
	}
	return n, err
}

func (c *diagnosingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && !c.started.Load() && closedByPeer(err) {
		return n, c.record(c.silent())
	}
	return n, err
}

// record remembers wrong for the address and returns it.
func (c *diagnosingConn) record(wrong *wrongServerError) error {
	c.diagnoses.m.Store(c.addr, wrong)
	return wrong
}

// silent is the diagnosis of a server that closed the connection at the
// preface: what Go's TLS servers do with cleartext that does not look like
// HTTP/1.
func (c *diagnosingConn) silent() *wrongServerError {
	return &wrongServerError{
		name: "h2c",
		addr: c.addr,
		what: "closed the connection at the HTTP/2 preface without a word",
		fix:  `it does not speak h2c: if it is a TLS port, use "h2" (https); if it speaks HTTP/1.1 only, use "http1"`,
	}
}

// closedByPeer reports whether err means the other side closed or reset
// the connection.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// diagnose looks at the first bytes received.
func (c *diagnosingConn) diagnose(b []byte) *wrongServerError {
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/1.")):
		return &wrongServerError{
			name: "h2c", addr: c.addr,
			what: "answered in HTTP/1.x, not HTTP/2",
			fix:  `it does not speak h2c (HTTP/2 without TLS): use "http1", or serve with "h2c"`,
		}
	case len(b) >= 2 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03:
		// A TLS record: an alert or a handshake message.
		return &wrongServerError{
			name: "h2c", addr: c.addr,
			what: "answered with TLS",
			fix:  `use "h2" (HTTP/2 over TLS, https) for a TLS port`,
		}
	}
	return nil
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
		return nil, &wrongServerError{
			name: name, addr: addr,
			what: "is a TLS port: it answered \"" + string(tlsPortBody) + "\"",
			fix:  `use https: set tls in the client config (the "h2" transport, or "http1" with tls)`,
		}
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

package h2

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"golang.org/x/net/http2"

	"polyconnect.dev/protocol/transport"
)

// This file explains a connection that failed before the server's first
// SETTINGS frame, the usual sign of a client pointed at a server that does
// not speak its protocol: an h2c-rpc client at a TLS port (the server
// closes the connection at the preface, which the engine reports as a
// closed connection), or at a server that speaks only HTTP/1.1. The
// diagnosis runs only after such a failure.

// prefaceError is the error of the calls on a connection that ended before
// the server's first SETTINGS frame.
type prefaceError struct{ err error }

func (e *prefaceError) Error() string { return e.err.Error() }
func (e *prefaceError) Unwrap() error { return e.err }

// wrongServerError says that the server at addr does not speak the
// client's protocol, and what to use instead.
type wrongServerError struct {
	name, addr, what, fix string
}

func (e *wrongServerError) Error() string {
	return "h2: " + e.name + " client: the server at " + e.addr + " " + e.what + "; " + e.fix
}

// probeTimeout bounds each probe of a server that failed a connection. It
// runs only after a failure, so it may take its time on a loaded machine.
const probeTimeout = 5 * time.Second

// diagnose finds out why the server at addr closed an h2c-rpc connection
// before its first SETTINGS frame. It returns a *transport.DialError that
// says what the server speaks instead, or nil if it cannot tell (the
// server may speak h2c and have failed for another reason).
func (c *Client) diagnose(ctx context.Context, addr string) error {
	if c.tls != nil {
		return nil // a TLS client's mismatches show in the handshake
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	first, closed := c.probePreface(ctx, addr)
	var wrong *wrongServerError
	switch {
	case len(first) >= 2 && (first[0] == 0x15 || first[0] == 0x16) && first[1] == 0x03:
		// A TLS record (an alert, most likely): no HTTP/2 frame starts so.
		wrong = c.tlsPort(addr, "it answered with TLS")
	case bytes.HasPrefix(first, []byte("HTTP/1.")):
		wrong = &wrongServerError{name: c.name, addr: addr, what: "answered in HTTP/1.x, not HTTP/2",
			fix: `it does not speak HTTP/2 without TLS: use "http1", or serve with "` + NameH2C + `" or "h2c"`}
	case closed && c.speaksTLS(ctx, addr):
		wrong = c.tlsPort(addr, "it closed the connection at the HTTP/2 preface and completed a TLS handshake")
	}
	if wrong == nil {
		return nil
	}
	return &transport.DialError{Addr: addr, Err: wrong}
}

// cleartextHint probes a server that failed an h2-rpc client's TLS
// handshake for cleartext HTTP, and says what it found, or "".
func (c *Client) cleartextHint(addr string) string {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	first, _ := c.probePreface(ctx, addr)
	switch {
	case len(first) >= 9 && first[3] == byte(http2.FrameSettings):
		return `the server does not speak TLS but HTTP/2 without it: use "` + NameH2C + `" (http://)`
	case bytes.HasPrefix(first, []byte("HTTP/1.")):
		return `the server does not speak TLS but HTTP/1.1 without it: use "http1" (http://)`
	}
	return ""
}

// alpnHint probes a server that refused an h2-rpc client's TLS handshake
// with an alert: if it completes one that offers HTTP/1.1 too, and picks
// that, it does not serve HTTP/2 over TLS.
func (c *Client) alpnHint(addr string) string {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	conn, err := c.dial(ctx, "tcp", addr)
	if err != nil {
		return ""
	}
	defer conn.Close()
	conf := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}
	if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) == nil {
		conf.ServerName = host
	}
	tc := tls.Client(conn, conf)
	if tc.HandshakeContext(ctx) != nil || tc.ConnectionState().NegotiatedProtocol == "h2" {
		return ""
	}
	return noHTTP2OverTLS
}

func (c *Client) tlsPort(addr, evidence string) *wrongServerError {
	return &wrongServerError{name: c.name, addr: addr, what: "is a TLS port (" + evidence + ")",
		fix: `use "` + NameH2 + `", HTTP/2 over TLS (https://)`}
}

// probePreface sends the client preface to addr and returns the first
// bytes the server answers, and whether it closed the connection without
// answering.
func (c *Client) probePreface(ctx context.Context, addr string) (first []byte, closed bool) {
	conn, err := c.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		return nil, isClosed(err)
	}
	// An empty SETTINGS frame, as a client's preface has.
	if _, err := conn.Write([]byte{0, 0, 0, 0x4, 0, 0, 0, 0, 0}); err != nil {
		return nil, isClosed(err)
	}
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(conn, buf, 9)
	if n > 0 {
		return buf[:n], false
	}
	return nil, isClosed(err)
}

// speaksTLS reports whether the server at addr completes a TLS handshake.
// The probe sends nothing after the handshake and trusts nothing it
// learns: it only tells a TLS port from a broken one.
func (c *Client) speaksTLS(ctx context.Context, addr string) bool {
	conn, err := c.dial(ctx, "tcp", addr)
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

// isClosed reports whether err means the peer closed or reset the
// connection.
func isClosed(err error) bool {
	var op *net.OpError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &op) && !op.Timeout()
}

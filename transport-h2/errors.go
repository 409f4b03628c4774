package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"

	"golang.org/x/net/http2"

	"polyconnect.dev/protocol/transport"
)

// This file puts the engine's errors into package transport's words where
// they leave the package: Client.Do, reads of a response body, and, on a
// server, reads of a request body. The engine fails a stream with the
// peer's RST_STREAM (peerReset), with a stream error it found itself
// (streamError) or another reason for resetting the stream itself, or with
// the error that ended the whole connection (conn.closeErr), which is what
// tells a lost connection apart from a reset.

// streamFailure returns err, the error a stream of c failed with, in
// package transport's words. addr is the peer's address, for messages.
func streamFailure(err error, c *conn, s *stream, addr string) error {
	if err == nil || err == io.EOF || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	if pr, ok := asPeerReset(err); ok {
		return &transport.StreamResetError{Code: uint64(pr.code), Remote: true, Err: err}
	}
	var se streamError
	if errors.As(err, &se) {
		return &transport.StreamResetError{Code: uint64(se.code), Err: err}
	}
	c.mu.Lock()
	closeErr, resetByUs := c.closeErr, s.resetByUs
	c.mu.Unlock()
	if closeErr != nil && err == closeErr {
		return connectionLost(err, c, addr)
	}
	if resetByUs {
		// The engine resets streams for its own reasons (a peer that keeps
		// the flow-control window shut, a response too large) with CANCEL.
		return &transport.StreamResetError{Code: transport.HTTP2Cancel, Err: err}
	}
	return err
}

// connectionLost is the error of a call on c when c ended with err: a
// GOAWAY with an error code that the peer sent is kept as the reason.
func connectionLost(err error, c *conn, addr string) error {
	var ga goAwayError
	if errors.As(err, &ga) {
		return &transport.ConnectionLostError{Addr: addr, Err: &transport.GoAwayError{Code: uint64(ga.code), Debug: ga.debug}}
	}
	if cc, ok := c.role.(*clientConn); ok {
		if code, debug, ok := cc.goAwayReceived(); ok && code != http2.ErrCodeNo {
			return &transport.ConnectionLostError{Addr: addr, Err: &transport.GoAwayError{Code: uint64(code), Debug: debug}}
		}
	}
	return &transport.ConnectionLostError{Addr: addr, Err: err}
}

// notProcessed is the error of a request the server did not process (a
// refused stream, a stream above a GOAWAY's last stream ID, or a
// connection that closed before the request was sent) after the client
// could not send it again.
func notProcessed(err error, addr string) error {
	if errors.Is(err, transport.ErrNotProcessed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if pr, ok := asPeerReset(err); ok {
		err = &transport.StreamResetError{Code: uint64(pr.code), Remote: true, Err: err}
	}
	var ga goAwayError
	if errors.As(err, &ga) {
		err = &transport.GoAwayError{Code: uint64(ga.code), Debug: ga.debug}
	}
	return &transport.NotProcessedError{Err: err}
}

func asPeerReset(err error) (peerReset, bool) {
	var pr peerReset
	ok := errors.As(err, &pr)
	return pr, ok
}

// tlsFailure is the error of a failed TLS handshake with addr, with a hint
// when the peer's answer shows what is wrong: a peer that answers the
// ClientHello with something else than TLS, or closes the connection at
// it, is probed for cleartext HTTP (see diagnose.go).
func (c *Client) tlsFailure(err error, addr string) error {
	hint := ""
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "remote error":
		// An alert from the server, such as no_application_protocol when
		// it has no "h2" in ALPN.
		hint = c.alpnHint(addr)
	case isClosed(err) || errors.As(err, new(tls.RecordHeaderError)):
		hint = c.cleartextHint(addr)
	}
	return &transport.TLSError{Addr: addr, Hint: hint, Err: err}
}

const noHTTP2OverTLS = `the server does not serve HTTP/2 over TLS (no "h2" in ALPN): use "http1" with TLS, or serve with "` + NameH2 + `" or "h2"`

package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"syscall"
)

// This file puts the errors of Go's own HTTP stack (net/http's HTTP/1.1 and
// HTTP/2 clients and servers, net's diallers, crypto/tls) into this
// package's words. net/http exports no type for its HTTP/2 stream errors
// but lets errors.As fill any struct with the same fields (StreamID, Code,
// Cause), which is how they are recognised here; its HTTP/2 client's
// error for a connection closed after GOAWAY is recognised by its type's
// name and read by its exported fields (netHTTPGoAway); two of its
// unexported sentinels are recognised by their exact text. Tests that
// provoke each on real connections pin them.

// NetHTTPClientError returns err, an error of a net/http client (from
// Do, RoundTrip or a response body read), in the words of this package:
// a *StreamResetError for an HTTP/2 stream reset (wrapped in a
// *NotProcessedError when the stream was refused), a *DialError, a
// *TLSError, or a *ConnectionLostError for a connection that closed or
// broke under the call. Errors already in these words, context errors and
// errors it does not recognise come back unchanged.
//
// Transports built on net/http call it (transport-nethttp does); package
// rpc calls it for HTTP clients that are not transports of this contract,
// such as a plain *http.Client.
func NetHTTPClientError(err error) error {
	if err == nil || err == io.EOF || known(err) {
		return err
	}
	addr := ""
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			addr = hostPort(u)
		}
		err = ue.Err
	}
	if se, ok := asNetHTTPStreamError(err); ok {
		reset := &StreamResetError{Code: uint64(se.Code), Remote: se.Cause != nil && se.Cause.Error() == netHTTPFromPeer, Err: err}
		if reset.Reason() == ResetRefused {
			return &NotProcessedError{Err: reset}
		}
		return reset
	}
	if g, ok := asNetHTTPGoAway(err); ok {
		// net/http fails the streams above the GOAWAY's last stream
		// when the frame arrives (and retries them itself); the ones it
		// fails with this error were at or below it, processed or in
		// progress, when the server then closed the connection.
		return &ConnectionLostError{Addr: addr, Err: g}
	}
	if isDialError(err) {
		if addr == "" {
			addr = opAddr(err)
		}
		return &DialError{Addr: addr, Err: err}
	}
	if isTLSError(err) {
		return &TLSError{Addr: addr, Err: err}
	}
	if isBrokenConn(err) {
		return &ConnectionLostError{Addr: addr, Err: err}
	}
	return err
}

// NetHTTPServerError returns err, an error a handler served by net/http's
// server got reading the request body, in the words of this package: a
// *StreamResetError for an HTTP/2 stream the client reset (net/http's
// server does not tell its own resets from the client's, and marks both
// Remote; the ones a handler sees come from the client's reset or its
// protocol errors) and a *ConnectionLostError for a connection that closed
// or broke under the request. Errors already in these words, context
// errors, io.EOF, read-limit errors (*http.MaxBytesError), timeouts and
// errors it does not recognise come back unchanged.
func NetHTTPServerError(err error) error {
	if err == nil || err == io.EOF || known(err) {
		return err
	}
	if se, ok := asNetHTTPStreamError(err); ok {
		return &StreamResetError{Code: uint64(se.Code), Remote: true, Err: err}
	}
	if err.Error() == netHTTPClientDisconnected || isBrokenConn(err) {
		return &ConnectionLostError{Err: err}
	}
	return err
}

// The text of two unexported net/http sentinels: the Cause of an HTTP/2
// stream error that the peer sent, and the error of an HTTP/2 request
// body whose connection closed.
const (
	netHTTPFromPeer           = "received from peer"
	netHTTPClientDisconnected = "client disconnected"
)

// netHTTPStreamError has the fields of net/http's HTTP/2 stream error, whose
// As method fills any struct with the same fields.
type netHTTPStreamError struct {
	StreamID uint32
	Code     uint32
	Cause    error
}

// Error makes netHTTPStreamError an error, as errors.As wants of a target.
func (e netHTTPStreamError) Error() string {
	return "HTTP/2 stream " + strconv.FormatUint(uint64(e.StreamID), 10) + " error " + CodeName(uint64(e.Code), false)
}

func asNetHTTPStreamError(err error) (netHTTPStreamError, bool) {
	var se netHTTPStreamError
	ok := errors.As(err, &se)
	return se, ok
}

// known reports whether err is already in this package's words, or is a
// context error, which stays as it is.
func known(err error) bool {
	return errors.Is(err, ErrStreamReset) || errors.Is(err, ErrNotProcessed) ||
		errors.Is(err, ErrConnectionLost) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isDialError reports whether err is a failure to open a connection.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// opAddr returns the remote address of a *net.OpError in err, or "".
func opAddr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		return op.Addr.String()
	}
	return ""
}

// isTLSError reports whether err is a failed TLS handshake: a certificate
// that does not verify, an alert, or a peer that does not speak TLS.
func isTLSError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
		record    tls.RecordHeaderError
		ech       *tls.ECHRejectionError
	)
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &alert) || errors.As(err, &record) || errors.As(err, &ech)
}

// isBrokenConn reports whether err means the connection ended under a
// call: closed early (EOF where more was due), reset or broken, or a read
// or write on it failed. A deadline that expired is not: the code above
// knows what the deadline was for.
func isBrokenConn(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && (op.Op == "read" || op.Op == "write")
}

// hostPort is the address a request to u goes to.
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

// asNetHTTPGoAway recognises, anywhere in err's chain, net/http's HTTP/2
// client error for a connection the server closed after sending GOAWAY
// (the unexported type http2GoAwayError, with exported fields LastStreamID,
// ErrCode and DebugData), and returns it in this package's words.
func asNetHTTPGoAway(err error) (*GoAwayError, bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		t := v.Type()
		if t.Kind() != reflect.Struct || t.PkgPath() != "net/http" || t.Name() != "http2GoAwayError" {
			continue
		}
		code, debug := v.FieldByName("ErrCode"), v.FieldByName("DebugData")
		if !code.IsValid() || !code.CanUint() || !debug.IsValid() || debug.Kind() != reflect.String {
			return nil, false
		}
		return &GoAwayError{Code: code.Uint(), Debug: debug.String()}, true
	}
	return nil, false
}

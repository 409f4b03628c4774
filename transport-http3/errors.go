package h3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/transport"
)

// This file puts quic-go's errors into package transport's words where
// they leave this package: Client.Do and reads of a response body on the
// client side, reads of a request body on the server side. The package
// knows nothing of RPC codes; package rpc maps these errors.

// mapError turns an error from the HTTP/3 round trip or a response-body
// read into what callers of a transport client expect:
//
//   - once ctx is done, or its deadline has passed, the context's error
//     (quic-go reports the stream reset that cancelling causes, such as
//     H3_REQUEST_CANCELLED, instead; the server may reset a stream at its
//     copy of the deadline before the context's timer fires here);
//   - a stream reset, a *transport.StreamResetError with its HTTP/3 code,
//     wrapped in a *transport.NotProcessedError when the server rejected
//     the request (H3_REQUEST_REJECTED);
//   - a connection that could not be set up, a *transport.DialError (no
//     answer, no address) or a *transport.TLSError (the handshake
//     failed);
//   - a connection that ended under the call (closed by either side, with
//     the peer's HTTP/3 code as a *transport.GoAwayError when it gave one,
//     silent for the idle timeout, reset), a *transport.ConnectionLostError.
//
// Anything else, such as a request the client refused to send or a closed
// client, is returned as it is.
func mapError(ctx context.Context, host string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return quicError(host, err, false)
}

// quicError puts a QUIC or HTTP/3 error into package transport's words;
// server says which side of a call sees it.
func quicError(host string, err error, server bool) error {
	if errors.Is(err, transport.ErrStreamReset) || errors.Is(err, transport.ErrNotProcessed) || errors.Is(err, transport.ErrConnectionLost) {
		return err
	}
	var streamErr *quic.StreamError
	if errors.As(err, &streamErr) {
		reset := &transport.StreamResetError{Code: uint64(streamErr.ErrorCode), HTTP3: true, Remote: streamErr.Remote, Err: err}
		if !server && reset.Reason() == transport.ResetRefused {
			return &transport.NotProcessedError{Err: reset}
		}
		return reset
	}
	var (
		appErr    *quic.ApplicationError
		idle      *quic.IdleTimeoutError
		handshake *quic.HandshakeTimeoutError
		reset     *quic.StatelessResetError
		version   *quic.VersionNegotiationError
		transErr  *quic.TransportError
		dial      *dialError
	)
	switch {
	case errors.As(err, &appErr):
		if appErr.Remote && http3.ErrCode(appErr.ErrorCode) != http3.ErrCodeNoError {
			return &transport.ConnectionLostError{Addr: host, Err: &transport.GoAwayError{Code: uint64(appErr.ErrorCode), HTTP3: true, Debug: appErr.ErrorMessage}}
		}
		return &transport.ConnectionLostError{Addr: host, Err: err}
	case isCertificateError(err), errors.As(err, &transErr) && transErr.ErrorCode.IsCryptoError():
		return &transport.TLSError{Addr: host, Err: err}
	case errors.As(err, &handshake), errors.As(err, &version):
		return &transport.DialError{Addr: host, Err: err}
	case errors.As(err, &dial):
		return &transport.DialError{Addr: dial.addr, Err: dial.err}
	case errors.As(err, &idle), errors.As(err, &reset), errors.As(err, &transErr):
		return &transport.ConnectionLostError{Addr: host, Err: err}
	case server && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)):
		return &transport.ConnectionLostError{Addr: host, Err: err}
	}
	return err
}

// dialError is a failure to set up a connection to addr before QUIC had
// anything to say: no address for the name, no socket.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string { return "h3: connect to " + e.addr + ": " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// isCertificateError reports whether err is a failure to verify a
// certificate, or the peer's refusal of ours.
func isCertificateError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
	)
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &alert)
}

// typedRequestBody translates the read errors of a request body on the
// server side: a client that cancels resets the stream with
// H3_REQUEST_CANCELLED, which a handler now reads as a reset by the peer.
type typedRequestBody struct {
	io.ReadCloser
	remote string
}

func (b *typedRequestBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, os.ErrDeadlineExceeded) {
		err = quicError(b.remote, err, true)
	}
	return n, err
}

// typedBodies makes the request bodies h reads fail in package
// transport's words.
func typedBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &typedRequestBody{ReadCloser: r.Body, remote: r.RemoteAddr}
		}
		h.ServeHTTP(w, r)
	})
}

package h3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/rpc"
)

// dialError is a failure to set up a connection to addr.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string { return "h3: connect to " + e.addr + ": " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// mapError turns an error from the HTTP/3 round trip or a response-body
// read into what callers of an HTTP client expect:
//
//   - once ctx is done, or its deadline has passed, the context's error
//     (quic-go reports the stream reset that cancelling causes, such as
//     H3_REQUEST_CANCELLED, instead);
//   - a stream reset by the server, an *rpc.Error by its HTTP/3 code:
//     H3_REQUEST_REJECTED (the request was not processed) is unavailable,
//     H3_REQUEST_CANCELLED canceled, H3_EXCESSIVE_LOAD resource_exhausted,
//     anything else internal, as gRPC maps HTTP/2 resets;
//   - a connection that failed, timed out, was closed or could not be set
//     up (TLS handshake included), an *rpc.Error with code unavailable.
//
// Anything else, such as a request the client refused to send, is
// returned as it is.
func mapError(ctx context.Context, host string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		// The server may reset the stream at its copy of the deadline
		// before the context's timer fires here.
		return context.DeadlineExceeded
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if streamErr, ok := errors.AsType[*quic.StreamError](err); ok {
		return rpc.NewError(resetCode(streamErr), "h3: stream reset by "+side(streamErr.Remote)+" with "+http3.ErrCode(streamErr.ErrorCode).String()).WithCause(err)
	}
	if appErr, ok := errors.AsType[*quic.ApplicationError](err); ok {
		return rpc.NewError(rpc.CodeUnavailable, "h3: connection to "+host+" closed by "+side(appErr.Remote)).WithCause(err)
	}
	var (
		idle      *quic.IdleTimeoutError
		handshake *quic.HandshakeTimeoutError
		reset     *quic.StatelessResetError
		version   *quic.VersionNegotiationError
		transport *quic.TransportError
		dial      *dialError
	)
	switch {
	case isCertificateError(err):
		return rpc.NewError(rpc.CodeUnavailable, "h3: TLS handshake with "+host+" failed").WithCause(err)
	case errors.As(err, &transport) && transport.ErrorCode.IsCryptoError():
		return rpc.NewError(rpc.CodeUnavailable, "h3: TLS handshake with "+host+" failed").WithCause(err)
	case errors.As(err, &handshake):
		return rpc.NewError(rpc.CodeUnavailable, "h3: no answer from "+host+" during the handshake").WithCause(err)
	case errors.As(err, &idle):
		return rpc.NewError(rpc.CodeUnavailable, "h3: connection to "+host+" lost (nothing heard from the server)").WithCause(err)
	case errors.As(err, &reset), errors.As(err, &version), errors.As(err, &transport), errors.As(err, &dial):
		return rpc.WrapError(rpc.CodeUnavailable, err)
	case errors.Is(err, http3.ErrTransportClosed), errors.Is(err, errClientClosed):
		return rpc.NewError(rpc.CodeUnavailable, "h3: client is closed").WithCause(err)
	}
	return err
}

// resetCode maps the HTTP/3 error code of a stream reset to an RPC code.
func resetCode(e *quic.StreamError) rpc.Code {
	switch http3.ErrCode(e.ErrorCode) {
	case http3.ErrCodeRequestRejected:
		return rpc.CodeUnavailable
	case http3.ErrCodeRequestCanceled:
		return rpc.CodeCanceled
	case http3.ErrCodeExcessiveLoad:
		return rpc.CodeResourceExhausted
	}
	return rpc.CodeInternal
}

func side(remote bool) string {
	if remote {
		return "the server"
	}
	return "the client"
}

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

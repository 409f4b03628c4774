package rpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"polyconnect.dev/protocol/transport"
)

// This file is the one place where failures of the HTTP exchange become
// status codes, for all three protocols and on both sides of a call. The
// transports report failures in package transport's words (stream reset,
// not processed, connection lost, dial, TLS); errors of net/http's own
// clients and servers, used without a transport of this contract, are put
// in those words first by transport.NetHTTPClientError and
// NetHTTPServerError. No error text is read here.

// transportError converts an error from HTTPClient.Do or a response body
// read into an RPC error:
//
//   - an *Error (from a custom HTTPClient) as it is;
//   - the URL in any *url.Error of the chain loses its query, which holds
//     the request of a Connect GET (see redactURLs);
//   - once the call's deadline has passed, deadline_exceeded, even if the
//     context's timer has not fired yet: the server may reset the stream at
//     its copy of the deadline first;
//   - once the call's context is done, its error (canceled), whatever the
//     transport saw (a stream reset that the cancellation caused, say);
//   - otherwise by resetCode and transportCode.
func transportError(ctx context.Context, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	redactURLs(err)
	if ctxErr := callError(ctx); ctxErr != nil {
		if withoutContextCause(err, ctxErr) {
			// The transport only saw the context end: one message says it.
			return asError(ctxErr)
		}
		return asError(ctxErr).WithCause(err)
	}
	err = transport.NetHTTPClientError(err)
	return &Error{code: transportCode(err, false), msg: err.Error(), cause: err}
}

// requestReadError converts an error a handler got reading the request
// body, once the handler has ruled out its own deadline, context and read
// limit, into an RPC error: a stream the client reset and a connection
// that ended map as on the client (a lost connection is canceled here: the
// client is gone), and anything else, such as a malformed body, is
// invalid_argument.
func requestReadError(err error) *Error {
	err = transport.NetHTTPServerError(err)
	cause := fmt.Errorf("read request: %w", err) // the message, so Error does not repeat it
	return &Error{code: transportCode(err, true), msg: cause.Error(), cause: cause}
}

// transportCode is the code of a transport failure, by the gRPC
// specification's table for HTTP/2 stream resets (and the HTTP/3 codes
// paired with them), for every protocol:
//
//	stream reset, refused (REFUSED_STREAM, H3_REQUEST_REJECTED)     unavailable
//	stream reset, cancel (CANCEL, H3_REQUEST_CANCELLED)             canceled
//	stream reset, ENHANCE_YOUR_CALM, H3_EXCESSIVE_LOAD              resource_exhausted
//	stream reset, INADEQUATE_SECURITY                               permission_denied
//	stream reset, any other code (NO_ERROR, INTERNAL_ERROR, ...)    internal
//	not processed (refused, above a GOAWAY), dial or TLS failure    unavailable
//	connection lost                                                 unavailable (client), canceled (server)
//	a context's error found in the chain                            canceled, deadline_exceeded
//	anything else                                                   unavailable (client), invalid_argument (server)
func transportCode(err error, server bool) Code {
	var reset *transport.StreamResetError
	if errors.As(err, &reset) {
		return resetCode(reset.Reason())
	}
	switch {
	case errors.Is(err, transport.ErrNotProcessed):
		return CodeUnavailable
	case errors.Is(err, transport.ErrConnectionLost):
		if server {
			return CodeCanceled
		}
		return CodeUnavailable
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	case server:
		return CodeInvalidArgument
	}
	return CodeUnavailable
}

// resetCode maps the meaning of a stream reset to a code, as the gRPC
// specification maps HTTP/2 RST_STREAM error codes.
func resetCode(r transport.ResetReason) Code {
	switch r {
	case transport.ResetRefused:
		return CodeUnavailable
	case transport.ResetCancel:
		return CodeCanceled
	case transport.ResetExcessiveLoad:
		return CodeResourceExhausted
	case transport.ResetInadequateSecurity:
		return CodePermissionDenied
	}
	return CodeInternal
}

// callError is the error of a call whose context is ctx: once its deadline
// has passed, context.DeadlineExceeded, even if the context's timer has
// not fired yet or the call's own cancellation (the stream being closed)
// got there first: a context's Done channel closes before its children's
// errors are set, and its timer may run late. Otherwise ctx's error.
func callError(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return ctx.Err()
}

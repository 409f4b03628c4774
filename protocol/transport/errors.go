package transport

import (
	"errors"
	"strconv"

	"polyconnect.dev/protocol/transport/balance"
)

// The failures every transport reports in the same words, whatever the
// HTTP version or the library under it. Transports return (or wrap) the
// error types of this file from Client.Do, from reads of a response body,
// and from reads of a request body on the server side, so that code above
// them (package rpc, a balancer, a retry policy) can tell failures apart
// with errors.Is and errors.As instead of reading error text:
//
//	errors.Is(err, transport.ErrStreamReset)    // one call's stream was reset: *StreamResetError
//	errors.Is(err, transport.ErrNotProcessed)   // the server never processed the request: safe to send again
//	errors.Is(err, transport.ErrConnectionLost) // the connection under the call ended: *ConnectionLostError
//	errors.Is(err, transport.ErrDial)           // no connection could be opened: *DialError
//	errors.Is(err, transport.ErrTLS)            // the TLS handshake failed: *TLSError
//
// Each type keeps the transport's own error as Err, for errors.As and for
// the message. Package rpc turns them into status codes in one place, as the
// gRPC specification maps HTTP/2 error codes (see [StreamResetError.Reason]).
//
// A caller's own context ending is not a transport failure: transports
// return the context's error for it (context.Canceled or
// context.DeadlineExceeded), not the stream reset it causes.

// Sentinels for errors.Is. The error types of this file match them; no
// transport returns them bare.
var (
	// ErrStreamReset matches a *StreamResetError: one stream (one call)
	// was reset, by the peer or by this side, and the connection lives on.
	ErrStreamReset = errors.New("transport: stream reset")
	// ErrNotProcessed matches an error that says the server did not
	// process the request, so that sending it again, to the same server or
	// another, cannot run it twice: a *NotProcessedError, a *DialError or a
	// *TLSError.
	ErrNotProcessed = errors.New("transport: request not processed")
	// ErrConnectionLost matches a *ConnectionLostError: the connection
	// carrying the call ended before the call did.
	ErrConnectionLost = errors.New("transport: connection lost")
	// ErrDial matches a *DialError: no connection could be opened.
	ErrDial = errors.New("transport: dial failed")
	// ErrTLS matches a *TLSError: the TLS handshake failed.
	ErrTLS = errors.New("transport: TLS handshake failed")
)

// ResetReason is what a stream reset means for a call, the same for HTTP/2
// and HTTP/3, whose codes differ (RFC 9114 appendix A.4.1 pairs them).
type ResetReason uint8

// The reasons of [StreamResetError.Reason].
const (
	// ResetOther is every code without a meaning of its own for a call:
	// an internal error of the peer (a handler that panicked), a protocol,
	// flow-control or compression error, and any code not listed here.
	ResetOther ResetReason = iota
	// ResetNoError is HTTP/2 NO_ERROR or HTTP/3 H3_NO_ERROR: the peer
	// stopped the stream without an error, typically a server that has
	// sent its whole response and needs no more of the request.
	ResetNoError
	// ResetRefused is HTTP/2 REFUSED_STREAM or HTTP/3 H3_REQUEST_REJECTED:
	// the server did not process the request.
	ResetRefused
	// ResetCancel is HTTP/2 CANCEL or HTTP/3 H3_REQUEST_CANCELLED: the
	// stream is no longer wanted, typically because its caller gave up.
	ResetCancel
	// ResetExcessiveLoad is HTTP/2 ENHANCE_YOUR_CALM or HTTP/3
	// H3_EXCESSIVE_LOAD: the peer is shedding load or thinks this side
	// abusive.
	ResetExcessiveLoad
	// ResetInadequateSecurity is HTTP/2 INADEQUATE_SECURITY: the TLS
	// connection does not meet the peer's requirements. HTTP/3 has no
	// such code (QUIC always uses TLS 1.3).
	ResetInadequateSecurity
)

// String returns the reason's name, such as "cancel".
func (r ResetReason) String() string {
	switch r {
	case ResetNoError:
		return "no error"
	case ResetRefused:
		return "refused"
	case ResetCancel:
		return "cancel"
	case ResetExcessiveLoad:
		return "excessive load"
	case ResetInadequateSecurity:
		return "inadequate security"
	}
	return "other"
}

// HTTP/2 error codes (RFC 9113 section 7), for StreamResetError.Code and
// GoAwayError.Code when HTTP3 is false.
const (
	HTTP2NoError            uint64 = 0x0
	HTTP2ProtocolError      uint64 = 0x1
	HTTP2InternalError      uint64 = 0x2
	HTTP2FlowControlError   uint64 = 0x3
	HTTP2SettingsTimeout    uint64 = 0x4
	HTTP2StreamClosed       uint64 = 0x5
	HTTP2FrameSizeError     uint64 = 0x6
	HTTP2RefusedStream      uint64 = 0x7
	HTTP2Cancel             uint64 = 0x8
	HTTP2CompressionError   uint64 = 0x9
	HTTP2ConnectError       uint64 = 0xa
	HTTP2EnhanceYourCalm    uint64 = 0xb
	HTTP2InadequateSecurity uint64 = 0xc
	HTTP2HTTP11Required     uint64 = 0xd
)

// HTTP/3 error codes (RFC 9114 section 8.1), for StreamResetError.Code and
// GoAwayError.Code when HTTP3 is true.
const (
	HTTP3NoError              uint64 = 0x100
	HTTP3GeneralProtocolError uint64 = 0x101
	HTTP3InternalError        uint64 = 0x102
	HTTP3StreamCreationError  uint64 = 0x103
	HTTP3ClosedCriticalStream uint64 = 0x104
	HTTP3FrameUnexpected      uint64 = 0x105
	HTTP3FrameError           uint64 = 0x106
	HTTP3ExcessiveLoad        uint64 = 0x107
	HTTP3IDError              uint64 = 0x108
	HTTP3SettingsError        uint64 = 0x109
	HTTP3MissingSettings      uint64 = 0x10a
	HTTP3RequestRejected      uint64 = 0x10b
	HTTP3RequestCancelled     uint64 = 0x10c
	HTTP3RequestIncomplete    uint64 = 0x10d
	HTTP3MessageError         uint64 = 0x10e
	HTTP3ConnectError         uint64 = 0x10f
	HTTP3VersionFallback      uint64 = 0x110
)

var http2CodeNames = [...]string{
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
	"CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
	"INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
}

var http3CodeNames = [...]string{
	"H3_NO_ERROR", "H3_GENERAL_PROTOCOL_ERROR", "H3_INTERNAL_ERROR",
	"H3_STREAM_CREATION_ERROR", "H3_CLOSED_CRITICAL_STREAM", "H3_FRAME_UNEXPECTED",
	"H3_FRAME_ERROR", "H3_EXCESSIVE_LOAD", "H3_ID_ERROR", "H3_SETTINGS_ERROR",
	"H3_MISSING_SETTINGS", "H3_REQUEST_REJECTED", "H3_REQUEST_CANCELLED",
	"H3_REQUEST_INCOMPLETE", "H3_MESSAGE_ERROR", "H3_CONNECT_ERROR",
	"H3_VERSION_FALLBACK",
}

var qpackCodeNames = [...]string{
	"QPACK_DECOMPRESSION_FAILED", "QPACK_ENCODER_STREAM_ERROR", "QPACK_DECODER_STREAM_ERROR",
}

// CodeName returns the name of an HTTP/2 error code, or with http3 of an
// HTTP/3 one (QPACK's included), such as "CANCEL" or
// "H3_REQUEST_CANCELLED"; a code without a name is shown in hexadecimal.
func CodeName(code uint64, http3 bool) string {
	switch {
	case !http3 && code < uint64(len(http2CodeNames)):
		return http2CodeNames[code]
	case http3 && code >= HTTP3NoError && code-HTTP3NoError < uint64(len(http3CodeNames)):
		return http3CodeNames[code-HTTP3NoError]
	case http3 && code >= 0x200 && code-0x200 < uint64(len(qpackCodeNames)):
		return qpackCodeNames[code-0x200]
	}
	return "0x" + strconv.FormatUint(code, 16)
}

func protoName(http3 bool) string {
	if http3 {
		return "HTTP/3"
	}
	return "HTTP/2"
}

// StreamResetError reports that the stream of one call was reset: an
// HTTP/2 RST_STREAM, or an HTTP/3 RESET_STREAM or STOP_SENDING. The
// connection is unharmed; other calls on it go on.
type StreamResetError struct {
	// Code is the error code of the reset, an HTTP/2 code (the HTTP2
	// constants) or, with HTTP3 set, an HTTP/3 one (the HTTP3 constants).
	Code uint64
	// HTTP3 reports that Code is an HTTP/3 code.
	HTTP3 bool
	// Remote reports that the peer reset the stream. It is false when this
	// side did, for example on finding the peer's frames malformed or when
	// the caller closed a response body early.
	Remote bool
	// Err is the transport's own error, or nil.
	Err error
}

// Reason returns what the reset's code means for a call, the same for
// HTTP/2 and HTTP/3.
func (e *StreamResetError) Reason() ResetReason {
	if e.HTTP3 {
		switch e.Code {
		case HTTP3NoError:
			return ResetNoError
		case HTTP3RequestRejected:
			return ResetRefused
		case HTTP3RequestCancelled:
			return ResetCancel
		case HTTP3ExcessiveLoad:
			return ResetExcessiveLoad
		}
		return ResetOther
	}
	switch e.Code {
	case HTTP2NoError:
		return ResetNoError
	case HTTP2RefusedStream:
		return ResetRefused
	case HTTP2Cancel:
		return ResetCancel
	case HTTP2EnhanceYourCalm:
		return ResetExcessiveLoad
	case HTTP2InadequateSecurity:
		return ResetInadequateSecurity
	}
	return ResetOther
}

// Error says who reset the stream and with which code, such as
// "transport: stream reset by the peer with HTTP/2 INTERNAL_ERROR".
func (e *StreamResetError) Error() string {
	by := "by this side"
	if e.Remote {
		by = "by the peer"
	}
	return "transport: stream reset " + by + " with " + protoName(e.HTTP3) + " " + CodeName(e.Code, e.HTTP3)
}

// Unwrap returns Err.
func (e *StreamResetError) Unwrap() error { return e.Err }

// Is matches ErrStreamReset, and ErrNotProcessed for a refused stream
// (REFUSED_STREAM, H3_REQUEST_REJECTED), which the server promises it did
// not process.
func (e *StreamResetError) Is(target error) bool {
	return target == ErrStreamReset || (target == ErrNotProcessed || target == balance.ErrNotSent) && e.Reason() == ResetRefused
}

// GoAwayError is a peer's notice that it closes the connection: HTTP/2
// GOAWAY, or for HTTP/3 the GOAWAY frame or a QUIC CONNECTION_CLOSE with an
// HTTP/3 code. Transports return it wrapped: as Err of a
// *NotProcessedError for a request above the last stream the peer said it
// would process, or of a *ConnectionLostError for a call cut short when
// the peer closed the connection with an error code.
type GoAwayError struct {
	// Code is the error code, HTTP/2 or, with HTTP3 set, HTTP/3.
	Code uint64
	// HTTP3 reports that Code is an HTTP/3 code.
	HTTP3 bool
	// Debug is the peer's debug data or reason phrase, such as
	// "too_many_pings", when it sent one.
	Debug string
}

// Error says which code the peer went away with.
func (e *GoAwayError) Error() string {
	msg := "transport: the peer sent GOAWAY with " + protoName(e.HTTP3) + " " + CodeName(e.Code, e.HTTP3)
	if e.Debug != "" {
		msg += " (" + strconv.Quote(e.Debug) + ")"
	}
	return msg
}

// NotProcessedError reports a request the server did not process, so that
// sending it again cannot run it twice, even if it is not idempotent: a
// refused stream (its Err is then a *StreamResetError), a request above
// the last stream of a GOAWAY (a *GoAwayError), or a request whose
// connection closed before any of it was sent. Transports that retry such
// requests on their own return it only when they could not.
type NotProcessedError struct {
	// Err says why, and is never nil.
	Err error
}

// Error says the request was not processed, and why.
func (e *NotProcessedError) Error() string {
	return "transport: the server did not process the request: " + e.Err.Error()
}

// Unwrap returns Err.
func (e *NotProcessedError) Unwrap() error { return e.Err }

// Is matches ErrNotProcessed, and balance.ErrNotSent, so that a balancer
// sends the request to another replica.
func (e *NotProcessedError) Is(target error) bool {
	return target == ErrNotProcessed || target == balance.ErrNotSent
}

// ConnectionLostError reports that the connection carrying a call ended
// before the call did: the peer closed or reset it, went away with an error
// code (Err wraps a *GoAwayError then), stopped answering keep-alive pings,
// timed out, or this side closed it. The call may or may not have been
// processed.
type ConnectionLostError struct {
	// Addr is the peer's address, when the transport knows it.
	Addr string
	// Err is the transport's own error, or a *GoAwayError; never nil.
	Err error
}

// Error says the connection was lost, to which address, and how.
func (e *ConnectionLostError) Error() string {
	msg := "transport: connection lost"
	if e.Addr != "" {
		msg += " to " + e.Addr
	}
	return msg + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *ConnectionLostError) Unwrap() error { return e.Err }

// Is matches ErrConnectionLost.
func (e *ConnectionLostError) Is(target error) bool { return target == ErrConnectionLost }

// DialError reports that no connection to Addr could be opened: the name
// did not resolve, nothing listens, the network is unreachable, or the
// dial timed out. The request was not sent.
type DialError struct {
	// Addr is the address dialled, "host:port".
	Addr string
	// Err is the dialler's error; never nil.
	Err error
}

// Error names the address and the cause.
func (e *DialError) Error() string {
	return "transport: cannot connect to " + e.Addr + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *DialError) Unwrap() error { return e.Err }

// Is matches ErrDial, ErrNotProcessed and balance.ErrNotSent.
func (e *DialError) Is(target error) bool {
	return target == ErrDial || target == ErrNotProcessed || target == balance.ErrNotSent
}

// TLSError reports that the TLS handshake with Addr failed: a certificate
// that does not verify, an alert from the peer (such as a client
// certificate it refused), no protocol in common (ALPN), or a peer that
// does not speak TLS at all. The request was not sent.
type TLSError struct {
	// Addr is the address of the peer, "host:port".
	Addr string
	// Hint, when set, says what is most likely wrong in the
	// configuration, such as a cleartext port given to a TLS client.
	Hint string
	// Err is the handshake's error; never nil.
	Err error
}

// Error names the address, the cause and the hint.
func (e *TLSError) Error() string {
	msg := "transport: TLS handshake with " + e.Addr + " failed: " + e.Err.Error()
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap returns Err.
func (e *TLSError) Unwrap() error { return e.Err }

// Is matches ErrTLS, ErrNotProcessed and balance.ErrNotSent.
func (e *TLSError) Is(target error) bool {
	return target == ErrTLS || target == ErrNotProcessed || target == balance.ErrNotSent
}

package rpc

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Error is an RPC error: a code, a message that is sent to the peer, optional
// details (protobuf messages packed as google.protobuf.Any) and metadata
// (headers and trailers sent with the error). It may wrap a local cause, which
// is reported by Unwrap and Error but never sent over the wire.
//
// An Error is not safe for concurrent mutation; build it, then return it.
type Error struct {
	code    Code
	msg     string
	cause   error
	details []*anypb.Any
	meta    http.Header
	// wire is true when the error was decoded from a peer's response.
	wire bool
}

// NewError returns an error with the given code and message.
func NewError(code Code, msg string) *Error {
	return &Error{code: code, msg: msg}
}

// WrapError returns an error with the given code whose message is the cause's
// message (its Error text). The cause stays local: only its message is sent,
// and Unwrap returns it, so errors.Is and errors.As still find it, an *Error
// inside it included. The code is always the one given, even when the cause
// is or wraps an *Error with another code. WrapError returns nil for a nil
// cause.
func WrapError(code Code, cause error) *Error {
	if cause == nil {
		return nil
	}
	return &Error{code: code, msg: cause.Error(), cause: cause}
}

// WithCause returns a copy of e that wraps cause locally. The cause is never
// sent to the peer; Unwrap returns it, so errors.Is and errors.As see it. The
// copy has its own metadata and details, so changing them leaves e (a
// package-level sentinel, say) as it was.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	if e.meta != nil {
		c.meta = e.meta.Clone()
	}
	if e.details != nil {
		c.details = slices.Clone(e.details)
	}
	return &c
}

// Code returns the error's code.
func (e *Error) Code() Code { return e.code }

// Message returns the message sent to the peer, without the code prefix.
func (e *Error) Message() string { return e.msg }

// Error returns the code followed by the message, and the local cause when
// it adds anything.
func (e *Error) Error() string {
	s := e.code.String()
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.cause != nil && e.cause.Error() != e.msg {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the local cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// AddDetail packs msg as a google.protobuf.Any and appends it to the details
// sent with the error.
func (e *Error) AddDetail(msg proto.Message) error {
	a, err := anypb.New(msg)
	if err != nil {
		return err
	}
	e.details = append(e.details, a)
	return nil
}

// AddAnyDetail appends an already packed detail.
func (e *Error) AddAnyDetail(a *anypb.Any) {
	e.details = append(e.details, a)
}

// Details returns the error details. Unpack them with anypb.UnmarshalTo or
// (*anypb.Any).UnmarshalNew.
func (e *Error) Details() []*anypb.Any { return e.details }

// Meta returns the metadata sent with the error: on a handler, headers or
// trailers added here are written to the response; on a client, it holds the
// response headers and trailers of the failed call. It is never nil.
func (e *Error) Meta() http.Header {
	if e.meta == nil {
		e.meta = make(http.Header)
	}
	return e.meta
}

// IsWireError reports whether the error was received from the peer, as
// opposed to being produced locally by this process.
func (e *Error) IsWireError() bool { return e.wire }

// CodeOf returns the code of err: the code of the first *Error in its chain,
// CodeCanceled or CodeDeadlineExceeded for context errors, CodeUnknown for
// any other error, and 0 for nil.
func CodeOf(err error) Code {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	}
	return CodeUnknown
}

// asError converts any non-nil error into an *Error for sending.
func asError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{code: CodeCanceled, msg: err.Error(), cause: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{code: CodeDeadlineExceeded, msg: err.Error(), cause: err}
	}
	return &Error{code: CodeUnknown, msg: err.Error(), cause: err}
}

// errorf builds a local error; it is not on any hot path.
func errorf(code Code, msg string) *Error { return &Error{code: code, msg: msg} }

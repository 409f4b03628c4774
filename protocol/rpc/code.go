package rpc

import (
	"fmt"
	"net/http"
	"strconv"
)

// Code is an RPC status code. The zero value is not a valid code: success is
// signalled by a nil error, so there is no CodeOK.
type Code uint32

// The status codes shared by Connect and gRPC.
const (
	// CodeCanceled means the operation was canceled, typically by the caller.
	CodeCanceled Code = 1
	// CodeUnknown means an unknown error, for example one without a code.
	CodeUnknown Code = 2
	// CodeInvalidArgument means the client specified an invalid argument.
	CodeInvalidArgument Code = 3
	// CodeDeadlineExceeded means the deadline expired before the operation completed.
	CodeDeadlineExceeded Code = 4
	// CodeNotFound means a requested entity was not found.
	CodeNotFound Code = 5
	// CodeAlreadyExists means an entity the client tried to create already exists.
	CodeAlreadyExists Code = 6
	// CodePermissionDenied means the caller may not perform the operation.
	CodePermissionDenied Code = 7
	// CodeResourceExhausted means a resource, such as a quota or a size limit, ran out.
	CodeResourceExhausted Code = 8
	// CodeFailedPrecondition means the system is not in a state the operation requires.
	CodeFailedPrecondition Code = 9
	// CodeAborted means the operation was aborted, often because of a concurrency conflict.
	CodeAborted Code = 10
	// CodeOutOfRange means the operation was attempted past the valid range.
	CodeOutOfRange Code = 11
	// CodeUnimplemented means the operation is not implemented or not supported.
	CodeUnimplemented Code = 12
	// CodeInternal means an invariant of the underlying system is broken.
	CodeInternal Code = 13
	// CodeUnavailable means the service is currently unavailable; retrying may help.
	CodeUnavailable Code = 14
	// CodeDataLoss means unrecoverable data loss or corruption.
	CodeDataLoss Code = 15
	// CodeUnauthenticated means the request lacks valid authentication credentials.
	CodeUnauthenticated Code = 16

	minCode = CodeCanceled
	maxCode = CodeUnauthenticated
)

var codeNames = [...]string{
	CodeCanceled:           "canceled",
	CodeUnknown:            "unknown",
	CodeInvalidArgument:    "invalid_argument",
	CodeDeadlineExceeded:   "deadline_exceeded",
	CodeNotFound:           "not_found",
	CodeAlreadyExists:      "already_exists",
	CodePermissionDenied:   "permission_denied",
	CodeResourceExhausted:  "resource_exhausted",
	CodeFailedPrecondition: "failed_precondition",
	CodeAborted:            "aborted",
	CodeOutOfRange:         "out_of_range",
	CodeUnimplemented:      "unimplemented",
	CodeInternal:           "internal",
	CodeUnavailable:        "unavailable",
	CodeDataLoss:           "data_loss",
	CodeUnauthenticated:    "unauthenticated",
}

// String returns the code's Connect name, such as "invalid_argument", or
// "code_N" for a code outside the known range.
func (c Code) String() string {
	if c >= minCode && c <= maxCode {
		return codeNames[c]
	}
	return "code_" + strconv.FormatUint(uint64(c), 10)
}

// MarshalText encodes the code as its Connect name.
func (c Code) MarshalText() ([]byte, error) {
	return []byte(c.String()), nil
}

// UnmarshalText decodes a Connect name (or "code_N") into the code.
func (c *Code) UnmarshalText(b []byte) error {
	s := string(b)
	for i := minCode; i <= maxCode; i++ {
		if codeNames[i] == s {
			*c = i
			return nil
		}
	}
	if len(s) > 5 && s[:5] == "code_" {
		n, err := strconv.ParseUint(s[5:], 10, 32)
		if err == nil {
			*c = Code(n)
			return nil
		}
	}
	return fmt.Errorf("rpc: invalid code %q", s)
}

// HTTPStatus returns the HTTP status the Connect protocol uses for an error
// with this code.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeCanceled:
		return 499
	case CodeUnknown:
		return http.StatusInternalServerError
	case CodeInvalidArgument:
		return http.StatusBadRequest
	case CodeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case CodeNotFound:
		return http.StatusNotFound
	case CodeAlreadyExists:
		return http.StatusConflict
	case CodePermissionDenied:
		return http.StatusForbidden
	case CodeResourceExhausted:
		return http.StatusTooManyRequests
	case CodeFailedPrecondition:
		return http.StatusBadRequest
	case CodeAborted:
		return http.StatusConflict
	case CodeOutOfRange:
		return http.StatusBadRequest
	case CodeUnimplemented:
		return http.StatusNotImplemented
	case CodeInternal:
		return http.StatusInternalServerError
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeDataLoss:
		return http.StatusInternalServerError
	case CodeUnauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// CodeFromHTTPStatus returns the code a client infers from an HTTP status when
// the response carries no RPC status of its own. The mapping is the one of the
// gRPC HTTP-to-code table, which the Connect protocol shares.
func CodeFromHTTPStatus(status int) Code {
	switch status {
	case http.StatusBadRequest:
		return CodeInternal
	case http.StatusUnauthorized:
		return CodeUnauthenticated
	case http.StatusForbidden:
		return CodePermissionDenied
	case http.StatusNotFound:
		return CodeUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return CodeUnavailable
	}
	return CodeUnknown
}

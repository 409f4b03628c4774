package rpc

import (
	"context"
	"errors"
)

// transportError converts an error from HTTPClient.Do or a body read into an
// RPC error.
func transportError(ctx context.Context, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return asError(ctxErr).WithCause(err)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{code: CodeCanceled, msg: err.Error(), cause: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{code: CodeDeadlineExceeded, msg: err.Error(), cause: err}
	}
	return &Error{code: CodeUnavailable, msg: err.Error(), cause: err}
}

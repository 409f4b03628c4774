package grpccompat

import (
	"context"
	"errors"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"polyconnect.dev/protocol/rpc"
)

// toRPCError converts an error a grpc-go handler returned to what rpc
// sends: a status error keeps its code, message and details; a context
// error becomes CANCELED or DEADLINE_EXCEEDED; an *rpc.Error passes as it
// is; anything else is UNKNOWN with the error's text, as grpc-go sends it.
func toRPCError(err error) error {
	if err == nil {
		return nil
	}
	var re *rpc.Error
	if errors.As(err, &re) {
		return err
	}
	s, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			s = status.FromContextError(err)
		} else {
			return rpc.NewError(rpc.CodeUnknown, err.Error()).WithCause(err)
		}
	}
	code := s.Code()
	if code == codes.OK {
		// A status error with code OK is not a success to send; grpc-go
		// reports it as an internal error too.
		return rpc.NewError(rpc.CodeInternal, "handler returned an error with status OK: "+s.Message()).WithCause(err)
	}
	e := rpc.NewError(rpc.Code(code), s.Message()).WithCause(err)
	for _, d := range s.Proto().GetDetails() {
		e.AddAnyDetail(d)
	}
	return e
}

// toStatusError converts an error of an rpc call to a grpc-go status error
// with the same code, message and details, as grpc-go's clients return.
func toStatusError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var re *rpc.Error
	if !errors.As(err, &re) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return status.FromContextError(err).Err()
		}
		return status.Error(codes.Unknown, err.Error())
	}
	return status.FromProto(&spb.Status{
		Code:    int32(re.Code()),
		Message: re.Message(),
		Details: re.Details(),
	}).Err()
}

// asRPCError returns err as an *rpc.Error, or nil.
func asRPCError(err error) *rpc.Error {
	var re *rpc.Error
	if errors.As(err, &re) {
		return re
	}
	return nil
}

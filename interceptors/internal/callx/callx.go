// Package callx holds the small pieces that several interceptors share: the
// name of the retry attempt header, a client stream that only reports an
// error, and the RPC error of a done context.
package callx

import (
	"context"
	"errors"
	"net/http"

	"polyconnect.dev/protocol/rpc"
)

// AttemptHeader is the request header in which the retry interceptor sends
// the attempt number (2 for the first retry, and so on); the first attempt
// goes without it. Logging reads it on both sides.
const AttemptHeader = "Polyconnect-Attempt"

// ContextError converts the error of a done context into an RPC error with
// the matching code: DEADLINE_EXCEEDED or CANCELED.
func ContextError(ctx context.Context) *rpc.Error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return rpc.NewError(rpc.CodeDeadlineExceeded, err.Error()).WithCause(err)
	}
	return rpc.NewError(rpc.CodeCanceled, err.Error()).WithCause(err)
}

// FailedClientConn returns a client stream that never reached the network:
// Send, CloseRequest and Receive return err. Interceptors use it to refuse a
// stream before it is opened. Its request headers are those of the call info
// in ctx, if any, so code that sets headers on it behaves as on a real stream.
func FailedClientConn(ctx context.Context, spec rpc.Spec, err error) rpc.StreamingClientConn {
	f := &failedClientConn{spec: spec, err: err, resHeader: make(http.Header), trailer: make(http.Header)}
	if info, ok := rpc.CallInfoFromContext(ctx); ok {
		f.peer = info.Peer()
		f.reqHeader = info.RequestHeader()
	}
	if f.reqHeader == nil {
		f.reqHeader = make(http.Header)
	}
	return f
}

type failedClientConn struct {
	spec      rpc.Spec
	peer      rpc.Peer
	reqHeader http.Header
	err       error
	resHeader http.Header
	trailer   http.Header
}

func (f *failedClientConn) Spec() rpc.Spec             { return f.spec }
func (f *failedClientConn) Peer() rpc.Peer             { return f.peer }
func (f *failedClientConn) RequestHeader() http.Header { return f.reqHeader }
func (f *failedClientConn) Send(any) error             { return f.err }
func (f *failedClientConn) CloseRequest() error        { return f.err }
func (f *failedClientConn) Receive(any) error          { return f.err }
func (f *failedClientConn) CloseResponse() error       { return nil }

func (f *failedClientConn) ResponseHeader() http.Header  { return f.resHeader }
func (f *failedClientConn) ResponseTrailer() http.Header { return f.trailer }

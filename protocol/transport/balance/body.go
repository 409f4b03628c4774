package balance

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// ErrNotSent may be wrapped by a Backend's error to say that the request
// was not processed (no connection could be made, the stream was refused),
// so the Client can send it to another replica. Package transport's
// errors that mean so (DialError, TLSError, NotProcessedError, a refused
// StreamResetError) match it, and dial failures of net/http-based backends
// (a *net.OpError with Op "dial") are recognised without it.
var ErrNotSent = errors.New("balance: request not sent")

// notSent reports whether err proves that the request reached no replica.
// safeToResend reports whether req may go to another replica after a
// failure even if the first one received it: HTTP calls GET, HEAD, OPTIONS
// and TRACE safe (RFC 9110, 9.2.1; Connect sends calls to methods without
// side effects as GET), and the request has no body, or one it can send again.
func safeToResend(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	}
	return false
}

func notSent(err error) bool {
	if errors.Is(err, ErrNotSent) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// trackedBody is a response body that ends its request's lease when it is
// read to the end, fails or is closed, and reports a failure that is not
// the caller's cancellation against the replica.
type trackedBody struct {
	io.ReadCloser
	c    *Client
	ctx  context.Context
	l    lease
	resp *http.Response
	done atomic.Bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done.Load() {
		switch {
		case err == io.EOF:
			// The trailers are in: a gRPC UNAVAILABLE status there is
			// the replica saying it cannot serve.
			b.finish(!b.c.keepUnavailable && b.resp.Trailer.Get("Grpc-Status") == grpcUnavailable)
		case b.ctx.Err() == nil:
			b.finish(true)
		default:
			b.finish(false)
		}
	}
	return n, err
}

// grpcUnavailable is the grpc-status value of UNAVAILABLE.
const grpcUnavailable = "14"

// unavailableAnswer reports whether resp is a replica saying it cannot
// serve: HTTP 503 (which the Connect protocol answers for unavailable), or
// a gRPC or gRPC-Web trailers-only response with status UNAVAILABLE.
func unavailableAnswer(resp *http.Response) bool {
	return resp.StatusCode == http.StatusServiceUnavailable || resp.Header.Get("Grpc-Status") == grpcUnavailable
}

func (b *trackedBody) Close() error {
	err := b.ReadCloser.Close()
	b.finish(false)
	return err
}

// finish ends the lease once; failed ejects the replica.
func (b *trackedBody) finish(failed bool) {
	if b.done.Swap(true) {
		return
	}
	if failed {
		b.l.fail(b.c.clock(), b.c.ejectBase, b.c.ejectMax)
	}
	b.l.release()
}

// holdBody is a request body without GetBody that may have to be sent
// again: it defers the transport's Close until the Client has settled on
// the attempt that keeps the body, and remembers whether it was read.
type holdBody struct {
	rc      io.ReadCloser
	touched atomic.Bool

	mu      sync.Mutex
	holding bool // closes are deferred
	closed  bool // a Close was deferred
}

func newHoldBody(rc io.ReadCloser) *holdBody { return &holdBody{rc: rc, holding: true} }

func (b *holdBody) Read(p []byte) (int, error) {
	b.touched.Store(true)
	return b.rc.Read(p)
}

func (b *holdBody) Close() error {
	b.mu.Lock()
	if b.holding {
		b.closed = true
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	return b.rc.Close()
}

// settle stops deferring closes and performs a deferred one.
func (b *holdBody) settle() {
	b.mu.Lock()
	closed := b.closed && b.holding
	b.holding = false
	b.mu.Unlock()
	if closed {
		_ = b.rc.Close()
	}
}

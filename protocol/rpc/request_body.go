package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// payloadBody is a request body over a pooled buffer. The buffer returns to
// the pool when both the transport has closed the body and the caller has
// released it, since a transport may close the body on another goroutine
// after Do has returned. Read and Close exclude each other: an HTTP/2
// transport that gets its response early closes the body from its read loop
// while its writer may still be in Read, and once Close has returned no Read
// may touch the buffer again.
type payloadBody struct {
	mu     sync.Mutex
	closed bool
	buf    *buffer
	r      bytes.Reader
	refs   atomic.Int32
}

func newPayloadBody(buf *buffer) *payloadBody {
	b := &payloadBody{buf: buf}
	b.r.Reset(buf.Bytes())
	b.refs.Store(2)
	return b
}

// Read returns io.EOF together with the last bytes, so that an HTTP/2
// transport can end the stream in the same DATA frame instead of sending an
// empty one after it.
func (b *payloadBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.ErrClosedPipe
	}
	n, err := b.r.Read(p)
	if err == nil && b.r.Len() == 0 {
		err = io.EOF
	}
	return n, err
}

// Len reports how many bytes are left to read. Its presence tells a
// transport that the whole body is in memory, so reading it never waits
// (transport-h2 queues such a body with the request headers).
func (b *payloadBody) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r.Len()
}

// Close is called by the transport, possibly more than once.
func (b *payloadBody) Close() error {
	b.mu.Lock()
	first := !b.closed
	b.closed = true
	b.r.Reset(nil)
	b.mu.Unlock()
	if first {
		b.release()
	}
	return nil
}

// release is called once by the transport (Close) and once by the caller.
func (b *payloadBody) release() {
	if b.refs.Add(-1) == 0 {
		putBuffer(b.buf)
	}
}

// getBody serves transport retries with a private copy, so that a retried
// write never races with the recycling of the original buffer.
func (b *payloadBody) getBody() (io.ReadCloser, error) {
	// Retries happen inside Do, before the caller's release, so the buffer
	// is still ours here.
	return io.NopCloser(bytes.NewReader(bytes.Clone(b.buf.Bytes()))), nil
}

// smallBodyMax is the largest request body sent from a private in-memory
// copy rather than the pooled buffer.
const smallBodyMax = 16 << 10

// knownLengthBody sends unary request bodies, whose length goes out as
// Content-Length, the cheapest way for the HTTP version the server speaks.
// Over HTTP/1.1 net/http writes the headers and body of a request in one
// write only when the body is a reader it knows to be in memory (such as a
// *bytes.Reader); any other reader makes it flush the headers first, which
// costs the client a write and the server a read on every call. So until a
// client has seen HTTP/2 answers, small bodies go out from a private
// *bytes.Reader copy; over HTTP/2, where that does not matter, they stream
// from the pooled buffer without a copy. Safe for concurrent use.
type knownLengthBody struct {
	sawHTTP2 atomic.Bool
}

// set attaches buf as the body of hreq. It returns the payloadBody to release
// after Do, or nil when buf already went back to the pool.
func (k *knownLengthBody) set(hreq *http.Request, buf *buffer) *payloadBody {
	hreq.ContentLength = int64(buf.Len())
	if buf.Len() <= smallBodyMax && !k.sawHTTP2.Load() {
		data := bytes.Clone(buf.Bytes())
		putBuffer(buf)
		hreq.Body = io.NopCloser(bytes.NewReader(data))
		hreq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		return nil
	}
	body := newPayloadBody(buf)
	hreq.Body = body
	hreq.GetBody = body.getBody
	return body
}

// observe notes the HTTP version of a response.
func (k *knownLengthBody) observe(resp *http.Response) {
	if h2 := resp.ProtoMajor >= 2; h2 != k.sawHTTP2.Load() {
		k.sawHTTP2.Store(h2)
	}
}

// handlerReadError converts a failure to read a request body, on any
// protocol, into an RPC error: an *Error as it is, the call's deadline or
// cancellation, a body over the size limit, or the transport's failure.
func handlerReadError(ctx context.Context, deadline *bodyDeadline, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	// The deadline first: over HTTP/1.1 the read deadline failing the
	// connection also cancels the request's context.
	if deadline.passed() {
		return errorf(CodeDeadlineExceeded, "deadline exceeded while reading the request")
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return asError(ctxErr)
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return errorf(CodeResourceExhausted, "request body too large")
	}
	return requestReadError(err)
}

package rpc

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"google.golang.org/protobuf/proto"
)

// RawClient calls one procedure with messages whose Go types rpc does not
// know: the caller passes the request and the response to fill as
// proto.Message values (or any message its codec takes). It speaks every
// protocol and takes every ClientOption, as Client does, and is safe for
// concurrent use. Adapters for other stacks' generated clients build on it.
type RawClient struct {
	inner  *Client[struct{}, struct{}] // the protocol client, without interceptors
	unary  ClientUnaryFunc             // the unary interceptor chain; nil without one
	stream ClientStreamFunc
}

// rawReplyKey carries the response message of a raw unary call to the
// innermost step of the interceptor chain, which is built once per client.
type rawReplyKey struct{}

// NewRawClient returns a client for the procedure spec.Procedure at baseURL,
// as NewClient does.
func NewRawClient(httpClient HTTPClient, baseURL string, spec Spec, opts ...ClientOption) *RawClient {
	var cfg clientConfig
	for _, o := range opts {
		o.applyClient(&cfg)
	}
	// The inner client does the calls; the interceptors are run here, where
	// the response message is the caller's.
	noInterceptors := clientOptionFunc(func(cfg *clientConfig) { cfg.interceptors = nil })
	inner := NewClient[struct{}, struct{}](httpClient, baseURL, spec, append(slices.Clip(opts), noInterceptors)...)
	c := &RawClient{inner: inner, stream: inner.stream}
	if len(cfg.interceptors) > 0 {
		c.unary = chainClientUnary(spec, func(ctx context.Context, req any) (any, error) {
			res, ok := ctx.Value(rawReplyKey{}).(any)
			if !ok || res == nil {
				return nil, errorf(CodeInternal, "raw unary chain run without a response message")
			}
			info := clientCallInfo(ctx)
			if info != nil {
				inner.beginAttempt(info)
			}
			if err := inner.proto.unary(ctx, info, req, res); err != nil {
				return nil, err
			}
			return res, nil
		}, cfg.interceptors)
		c.stream = chainClientStream(spec, inner.stream, cfg.interceptors)
	}
	return c
}

// Spec returns the procedure the client calls.
func (c *RawClient) Spec() Spec { return c.inner.spec }

// Invoke makes a unary call: it sends req and decodes the response into res.
// Request headers come from a CallInfo attached with NewClientContext, which
// also receives the response headers and trailers. An interceptor that
// returns a response other than res has it merged into res.
func (c *RawClient) Invoke(ctx context.Context, req, res any) error {
	in := c.inner
	if in.err != nil {
		return in.err
	}
	if res == nil {
		return errorf(CodeInternal, "Invoke: nil response message")
	}
	info := clientCallInfo(ctx)
	if c.unary == nil {
		if info != nil {
			in.beginAttempt(info)
		}
		return in.proto.unary(ctx, info, req, res)
	}
	if info == nil {
		ctx, info = NewClientContext(ctx)
	}
	in.prepare(info)
	got, err := c.unary(context.WithValue(ctx, rawReplyKey{}, res), req)
	if err != nil {
		return chainError(err)
	}
	if got != res {
		// An interceptor answered with a message of its own (a cache).
		gm, ok1 := got.(proto.Message)
		rm, ok2 := res.(proto.Message)
		if !ok1 || !ok2 || gm.ProtoReflect().Descriptor() != rm.ProtoReflect().Descriptor() {
			return errorf(CodeInternal, "interceptor returned a response of the wrong type")
		}
		proto.Reset(rm)
		proto.Merge(rm, gm)
	}
	return nil
}

// NewStream opens a streaming call (of the client's spec's kind) through the
// interceptors. Errors of the call itself surface on Send and Receive; the
// request goes out with the first Send, CloseRequest or Receive.
func (c *RawClient) NewStream(ctx context.Context) (StreamingClientConn, error) {
	return c.inner.openStreamWith(ctx, c.stream)
}

// ErrHeaderWaitUnsupported is returned by WaitResponseHeader for a stream
// that cannot wait for its response headers alone: one an interceptor
// wrapped without implementing the wait itself.
var ErrHeaderWaitUnsupported = errors.New("rpc: this stream cannot wait for its response headers")

// responseHeaderWaiter is implemented by the streams of every protocol, and
// may be implemented by an interceptor's stream that wraps one.
type responseHeaderWaiter interface {
	WaitResponseHeader() (http.Header, error)
}

// WaitResponseHeader waits until the response headers of the streaming call
// conn have arrived (starting the call if no message has been sent yet) and
// returns them, without reading a message. It belongs to the response side
// of the stream: it must not run concurrently with Receive. It returns the
// call's error if the call failed before the headers came, and
// ErrHeaderWaitUnsupported if conn cannot wait (a stream wrapped by an
// interceptor can, by implementing WaitResponseHeader() (http.Header,
// error) itself).
func WaitResponseHeader(conn StreamingClientConn) (http.Header, error) {
	w, ok := conn.(responseHeaderWaiter)
	if !ok {
		return nil, ErrHeaderWaitUnsupported
	}
	return w.WaitResponseHeader()
}

// WaitResponseHeader implements responseHeaderWaiter for every protocol's
// stream: the response side's first step, without reading a message.
func (d *duplexCall) WaitResponseHeader() (http.Header, error) {
	if d.recvStarted {
		if d.resp == nil && d.recvErr != nil {
			return nil, d.recvErr
		}
		return d.info.ResponseHeader(), nil
	}
	if d.recvErr != nil {
		return nil, d.recvErr
	}
	err := d.beginResponse()
	if err == nil {
		return d.info.ResponseHeader(), nil
	}
	d.recvErr = err
	if !d.released {
		d.released = true
		_ = d.CloseResponse()
	}
	return nil, err
}

// beginResponse starts the call if needed, waits for the response headers
// and readies the protocol's reader, as the first Receive does.
func (d *duplexCall) beginResponse() error {
	if err := d.start(); err != nil {
		return err
	}
	if err := d.ctx.Err(); err != nil {
		return asError(err)
	}
	d.recvStarted = true
	resp, err := d.awaitResponse()
	if err != nil {
		return err
	}
	return d.reader.begin(resp)
}

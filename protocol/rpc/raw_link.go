package rpc

import (
	"context"
	"net/http"
	"slices"

	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc/internal/rawlink"
)

// The raw API (package rpc/raw) is built on these two functions, handed over
// through rpc/internal/rawlink so that rpc's documentation keeps to the API
// of service authors.
func init() {
	rawlink.NewHandler = newRawHandler
	rawlink.NewClient = newRawClient
}

// newRawHandler returns a handler for spec that runs every call through the
// handler's call chain into fn, whose messages are of the caller's choosing.
// For a unary spec with unary interceptors, fn is also given the unary chain,
// built once around inner.
func newRawHandler(spec Spec, inner HandlerUnaryFunc, fn func(context.Context, StreamingHandlerConn, HandlerUnaryFunc) error, opts []HandlerOption) *Handler {
	h, interceptors := newHandler(spec, opts)
	var unary HandlerUnaryFunc
	if spec.StreamType == StreamTypeUnary && len(interceptors) > 0 {
		unary = chainHandlerUnary(spec, inner, interceptors)
	}
	h.call = chainHandlerCall(spec, func(ctx context.Context, conn StreamingHandlerConn) error {
		return fn(ctx, conn, unary)
	}, interceptors)
	return h
}

// rawReplyKey carries the response message of a raw unary call to the
// innermost step of the interceptor chain, which is built once per client.
type rawReplyKey struct{}

// newRawClient returns the unary call and the stream opening of a client for
// spec whose messages are of the caller's choosing, each run through the
// client's interceptors.
func newRawClient(httpClient HTTPClient, baseURL string, spec Spec, opts []ClientOption) (
	invoke func(ctx context.Context, req, res any) error,
	open func(ctx context.Context) (StreamingClientConn, error),
) {
	var cfg clientConfig
	for _, o := range opts {
		o.applyClient(&cfg)
	}
	// The inner client does the calls; the interceptors are run here, where
	// the response message is the caller's.
	noInterceptors := clientOptionFunc(func(cfg *clientConfig) { cfg.interceptors = nil })
	in := NewClient[struct{}, struct{}](httpClient, baseURL, spec, append(slices.Clip(opts), noInterceptors)...)
	stream := in.stream
	var unary ClientUnaryFunc
	if len(cfg.interceptors) > 0 {
		unary = chainClientUnary(spec, func(ctx context.Context, req any) (any, error) {
			res := ctx.Value(rawReplyKey{})
			if res == nil {
				return nil, errorf(CodeInternal, "raw unary chain run without a response message")
			}
			if err := in.attempt(ctx, clientCallInfo(ctx), req, res); err != nil {
				return nil, err
			}
			return res, nil
		}, cfg.interceptors)
		stream = chainClientStream(spec, in.stream, cfg.interceptors)
	}
	invoke = func(ctx context.Context, req, res any) error {
		if in.err != nil {
			return in.err
		}
		if res == nil {
			return errorf(CodeInternal, "Invoke: nil response message")
		}
		info := clientCallInfo(ctx)
		if unary == nil {
			return in.attempt(ctx, info, req, res)
		}
		if info == nil {
			ctx, info = NewClientContext(ctx)
		}
		in.prepare(info)
		got, err := unary(context.WithValue(ctx, rawReplyKey{}, res), req)
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
	open = func(ctx context.Context) (StreamingClientConn, error) {
		return in.openStreamWith(ctx, stream)
	}
	return invoke, open
}

// WaitResponseHeader lets package rpc/raw wait for the response headers of
// every protocol's stream: the response side's first step, without reading
// a message.
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

package rpc

import (
	"context"
	"errors"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// HTTPClient sends HTTP requests. *http.Client and every transport client
// implement it.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

type clientConfig struct {
	codec           Codec
	protocol        Protocol
	compressions    []compressionEdit
	sendCompression string
	compressMin     int
	readMax         int64
	sendMax         int64
	interceptors    []ClientInterceptor
	getURLMax       int
	noGet           bool
	grpcWebText     bool
}

// Client calls one procedure. It is safe for concurrent use; create it once
// and share it.
type Client[Req, Res any] struct {
	spec   Spec
	proto  protocolClient
	unary  ClientUnaryFunc
	stream ClientStreamFunc
	err    error // configuration error, reported by every call
	hasInt bool
	peer   Peer
}

// protocolClient is the client side of one wire protocol for one procedure.
type protocolClient interface {
	// unary performs a unary call, filling res. info may be nil.
	unary(ctx context.Context, info *CallInfo, req, res any) error
	// stream opens a streaming call; errors surface on Send and Receive.
	stream(ctx context.Context, info *CallInfo) StreamingClientConn
}

// clientParams is what every protocol client is built from.
type clientParams struct {
	spec        Spec
	httpClient  HTTPClient
	url         *url.URL
	urlString   string
	codec       Codec
	comps       *compressionSet
	sendComp    *compressionPool
	sendName    string
	compressMin int
	readMax     int64
	sendMax     int64
	getURLMax   int
	noGet       bool
	grpcWebText bool
}

// newProtocolClient builds the client side of protocol p; ok is false for a
// protocol that does not exist, which gets Connect's.
func newProtocolClient(p Protocol, params *clientParams) (c protocolClient, ok bool) {
	switch p {
	case ProtocolConnect:
		return newConnectClient(params), true
	case ProtocolGRPC:
		return newGRPCClient(params, false), true
	case ProtocolGRPCWeb:
		return newGRPCClient(params, true), true
	}
	return newConnectClient(params), false
}

// NewClient returns a client for the procedure spec.Procedure at baseURL
// (scheme, host and an optional path prefix). Configuration errors, such as an
// unknown send compression, are returned by every call.
func NewClient[Req, Res any](httpClient HTTPClient, baseURL string, spec Spec, opts ...ClientOption) *Client[Req, Res] {
	cfg := clientConfig{codec: protoCodec{}, readMax: DefaultReadMaxBytes, getURLMax: DefaultGetURLMaxBytes}
	for _, o := range opts {
		o.applyClient(&cfg)
	}
	if cfg.readMax < 0 {
		cfg.readMax = 0
	}
	c := &Client[Req, Res]{spec: spec, hasInt: len(cfg.interceptors) > 0}
	full := strings.TrimRight(baseURL, "/") + spec.Procedure
	u, err := url.Parse(full)
	if err != nil {
		c.err = errorf(CodeInvalidArgument, "invalid URL "+full+": "+err.Error())
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	p := &clientParams{
		spec: spec, httpClient: httpClient, url: u, urlString: full, codec: cfg.codec,
		comps: newCompressionSet(cfg.compressions), compressMin: cfg.compressMin,
		readMax: cfg.readMax, sendMax: cfg.sendMax, getURLMax: cfg.getURLMax, noGet: cfg.noGet,
		grpcWebText: cfg.grpcWebText,
	}
	if cfg.sendCompression != "" && cfg.sendCompression != compressionIdentity {
		p.sendComp = p.comps.get(cfg.sendCompression)
		p.sendName = cfg.sendCompression
		if p.sendComp == nil && c.err == nil {
			c.err = errorf(CodeInternal, "unknown send compression "+cfg.sendCompression+": import its compress/… package or pass WithCompression")
		}
	}
	proto, ok := newProtocolClient(cfg.protocol, p)
	if !ok && c.err == nil {
		c.err = errorf(CodeUnimplemented, "protocol "+cfg.protocol.String()+" is not available")
	}
	c.proto = proto
	c.peer = Peer{Protocol: cfg.protocol}
	if u != nil {
		c.peer.Addr = u.Host
	}
	c.unary = chainClientUnary(spec, func(ctx context.Context, req any) (any, error) {
		res := new(Res)
		// An interceptor may have attached a call info of its own.
		if err := c.attempt(ctx, clientCallInfo(ctx), req, res); err != nil {
			return nil, err
		}
		return res, nil
	}, cfg.interceptors)
	c.stream = chainClientStream(spec, func(ctx context.Context) (StreamingClientConn, error) {
		if err := ctx.Err(); err != nil {
			return nil, asError(err)
		}
		info := clientCallInfo(ctx)
		if info == nil {
			ctx, info = NewClientContext(ctx)
		}
		c.beginAttempt(info) // an interceptor may have attached a call info of its own
		return c.proto.stream(ctx, info), nil
	}, cfg.interceptors)
	return c
}

// Spec returns the procedure the client calls.
func (c *Client[Req, Res]) Spec() Spec { return c.spec }

// CallUnary sends req and returns the response. Request headers come from a
// CallInfo attached with NewClientContext, which also receives the response
// headers and trailers.
func (c *Client[Req, Res]) CallUnary(ctx context.Context, req *Req) (*Res, error) {
	if c.err != nil {
		return nil, c.err
	}
	info := clientCallInfo(ctx)
	if c.hasInt {
		if info == nil {
			ctx, info = NewClientContext(ctx)
		}
		c.prepare(info)
		res, err := c.unary(ctx, req)
		if err != nil {
			return nil, chainError(err)
		}
		typed, ok := res.(*Res)
		if !ok {
			return nil, errorf(CodeInternal, "interceptor returned a response of the wrong type")
		}
		return typed, nil
	}
	res := new(Res)
	if err := c.attempt(ctx, info, req, res); err != nil {
		return nil, err
	}
	return res, nil
}

// attempt makes one attempt of a unary call: it readies info (if the call
// has one) and sends req, decoding the response into res.
func (c *Client[Req, Res]) attempt(ctx context.Context, info *CallInfo, req, res any) error {
	if info != nil {
		c.beginAttempt(info)
	}
	return c.proto.unary(ctx, info, req, res)
}

// prepare fills in what the client knows of a call before interceptors see
// it.
func (c *Client[Req, Res]) prepare(info *CallInfo) {
	info.spec = c.spec
	info.method = http.MethodPost
	info.protocol = c.peer.Protocol
	info.peer = c.peer
	info.host = c.peer.Addr
	// The header and trailer maps are made when someone asks for them
	// (CallInfo.lazyMap).
}

// beginAttempt readies info for one attempt of the call, at the innermost
// step of the interceptor chain, which an interceptor may run more than once
// (a retry, say). An attempt reports only its own response: headers and
// trailers that an earlier attempt received are replaced by fresh maps, made
// when asked for (the old ones stay intact for whoever kept them), and
// message sizes start at zero. The request headers are not
// touched here: each attempt sends a copy of them, see attemptRequestHeader.
func (c *Client[Req, Res]) beginAttempt(info *CallInfo) {
	c.prepare(info)
	info.wire = wireSizes{}
	info.mapMu.Lock()
	if len(info.resHeader) > 0 {
		info.resHeader = nil
		info.resHeaderShared = false
	}
	if len(info.resTrailer) > 0 {
		info.resTrailer = nil
	}
	info.mapMu.Unlock()
}

// attemptRequestHeader returns the header map of one attempt's request: a
// copy of the caller's request headers (none without a CallInfo) with room
// for extra protocol headers. The protocols set their own headers (timeouts,
// content types) on the copy, so the caller's map never carries one
// attempt's deadline into the next attempt or the next call.
func attemptRequestHeader(info *CallInfo, extra int) http.Header {
	if info == nil || len(info.reqHeader) == 0 {
		return make(http.Header, extra)
	}
	h := make(http.Header, len(info.reqHeader)+extra)
	for k, vs := range info.reqHeader {
		h[k] = vs
	}
	return h
}

// newAttemptRequest returns the HTTP request of one attempt to u, carrying
// ctx and the headers h. The literal does not escape, so the request costs
// one allocation, WithContext's.
func newAttemptRequest(ctx context.Context, method string, u *url.URL, host string, h http.Header) *http.Request {
	req := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       host,
	}
	return req.WithContext(ctx)
}

// openStream opens a streaming call through the interceptors.
func (c *Client[Req, Res]) openStream(ctx context.Context) (StreamingClientConn, error) {
	return c.openStreamWith(ctx, c.stream)
}

// openStreamWith opens a streaming call through the chain stream.
func (c *Client[Req, Res]) openStreamWith(ctx context.Context, stream ClientStreamFunc) (StreamingClientConn, error) {
	if c.err != nil {
		return nil, c.err
	}
	info := clientCallInfo(ctx)
	if info == nil {
		ctx, info = NewClientContext(ctx)
	}
	c.prepare(info)
	conn, err := stream(ctx)
	if err != nil {
		return nil, chainError(err)
	}
	if conn == nil {
		return nil, errorf(CodeInternal, "interceptor returned neither a stream nor an error")
	}
	return conn, nil
}

// chainError is the error of a call as it leaves the interceptor chain: an
// RPC error as it is, and a bare context error (an interceptor returning
// ctx.Err()) as CANCELED or DEADLINE_EXCEEDED. Other errors of interceptors
// pass unchanged; CodeOf reports them as UNKNOWN.
func chainError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return asError(err)
	}
	return err
}

// CallServerStream sends req and returns the stream of responses. It fails
// for a configuration error, a context that is already done, a stream an
// interceptor refused, or a request that cannot be sent; the call's status
// otherwise comes from Receive.
func (c *Client[Req, Res]) CallServerStream(ctx context.Context, req *Req) (*ServerStreamCall[Res], error) {
	conn, err := c.openStream(ctx)
	if err != nil {
		return nil, err
	}
	if err := conn.Send(req); err != nil && !errors.Is(err, io.EOF) {
		_ = conn.CloseResponse()
		return nil, err
	}
	if err := conn.CloseRequest(); err != nil {
		_ = conn.CloseResponse()
		return nil, err
	}
	return &ServerStreamCall[Res]{conn: conn}, nil
}

// CallClientStream opens a client-streaming call. It fails for a
// configuration error, a context that is already done, or a stream an
// interceptor refused; errors of the call itself surface on Send and
// CloseAndReceive. The request goes out with the first Send or
// CloseAndReceive.
func (c *Client[Req, Res]) CallClientStream(ctx context.Context) (*ClientStreamCall[Req, Res], error) {
	conn, err := c.openStream(ctx)
	if err != nil {
		return nil, err
	}
	return &ClientStreamCall[Req, Res]{conn: conn}, nil
}

// CallBidiStream opens a bidirectional-streaming call. It fails for a
// configuration error, a context that is already done, or a stream an
// interceptor refused; errors of the call itself surface on Send and
// Receive. The request goes out with the first Send, CloseSend or Receive.
func (c *Client[Req, Res]) CallBidiStream(ctx context.Context) (*BidiStreamCall[Req, Res], error) {
	conn, err := c.openStream(ctx)
	if err != nil {
		return nil, err
	}
	return &BidiStreamCall[Req, Res]{conn: conn}, nil
}

// ServerStreamCall is the client side of a server-streaming call. It is not
// safe for concurrent use; to abandon the call from another goroutine,
// cancel its context.
type ServerStreamCall[Res any] struct {
	conn   StreamingClientConn
	closed bool
}

// Receive returns the next response, or io.EOF after the last one. Any other
// error is the call's status.
func (s *ServerStreamCall[Res]) Receive() (*Res, error) {
	msg := new(Res)
	if err := s.conn.Receive(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// All iterates over the responses. It ends without an error after the last
// one, or with a final (nil, err); breaking out of the loop closes the call.
func (s *ServerStreamCall[Res]) All() iter.Seq2[*Res, error] {
	return func(yield func(*Res, error) bool) {
		defer s.Close()
		for msg, err := range receiveAll[Res](s.conn.Receive) {
			if !yield(msg, err) {
				return
			}
		}
	}
}

// ResponseHeader returns the response headers; they are available once
// Receive has returned.
func (s *ServerStreamCall[Res]) ResponseHeader() http.Header { return s.conn.ResponseHeader() }

// ResponseTrailer returns the trailers, available once Receive returned io.EOF
// or an error.
func (s *ServerStreamCall[Res]) ResponseTrailer() http.Header { return s.conn.ResponseTrailer() }

// Close releases the call. A call abandoned before its end is canceled
// first, which the handler sees, so Close returns at once whatever the
// server does; a call read to its end is only drained (briefly) so that
// its connection can be reused.
func (s *ServerStreamCall[Res]) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.conn.CloseResponse()
}

// Conn returns the untyped connection.
func (s *ServerStreamCall[Res]) Conn() StreamingClientConn { return s.conn }

// ClientStreamCall is the client side of a client-streaming call. It is not
// safe for concurrent use. Send marshals the message before it returns, so
// the message may be reused.
type ClientStreamCall[Req, Res any] struct {
	conn StreamingClientConn
}

// RequestHeader returns the request headers; change them before the first Send.
func (s *ClientStreamCall[Req, Res]) RequestHeader() http.Header { return s.conn.RequestHeader() }

// Send sends a request. It returns io.EOF if the server has already ended the
// call; CloseAndReceive then returns the status.
func (s *ClientStreamCall[Req, Res]) Send(msg *Req) error { return s.conn.Send(msg) }

// CloseAndReceive ends the requests and returns the single response.
func (s *ClientStreamCall[Req, Res]) CloseAndReceive() (*Res, error) {
	defer s.conn.CloseResponse()
	if err := s.conn.CloseRequest(); err != nil {
		return nil, err
	}
	res := new(Res)
	if err := s.conn.Receive(res); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf(CodeUnimplemented, "protocol error: server ended the stream without a response")
		}
		return nil, err
	}
	var extra Res
	if err := s.conn.Receive(&extra); err == nil {
		return nil, errorf(CodeUnimplemented, "protocol error: server sent more than one response to a client-streaming call")
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	return res, nil
}

// ResponseHeader returns the response headers, available after CloseAndReceive.
func (s *ClientStreamCall[Req, Res]) ResponseHeader() http.Header { return s.conn.ResponseHeader() }

// ResponseTrailer returns the trailers, available after CloseAndReceive.
func (s *ClientStreamCall[Req, Res]) ResponseTrailer() http.Header {
	return s.conn.ResponseTrailer()
}

// Conn returns the untyped connection.
func (s *ClientStreamCall[Req, Res]) Conn() StreamingClientConn { return s.conn }

// BidiStreamCall is the client side of a bidirectional call. One goroutine
// may send (Send, CloseSend) while another receives (Receive, All,
// CloseReceive); each side is used by one goroutine at a time. Send marshals
// the message before it returns, so the message may be reused.
type BidiStreamCall[Req, Res any] struct {
	conn      StreamingClientConn
	closeOnce sync.Once
	closeErr  error
}

// RequestHeader returns the request headers; change them before the first Send.
func (s *BidiStreamCall[Req, Res]) RequestHeader() http.Header { return s.conn.RequestHeader() }

// Send sends a request. It returns io.EOF if the server has ended the call;
// Receive then returns the status.
func (s *BidiStreamCall[Req, Res]) Send(msg *Req) error { return s.conn.Send(msg) }

// CloseSend ends the requests.
func (s *BidiStreamCall[Req, Res]) CloseSend() error { return s.conn.CloseRequest() }

// Receive returns the next response, or io.EOF after the last one.
func (s *BidiStreamCall[Req, Res]) Receive() (*Res, error) {
	msg := new(Res)
	if err := s.conn.Receive(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// All iterates over the responses, as ServerStreamCall.All does: it ends
// without an error after the last one, or with a final (nil, err); breaking
// out of the loop closes the response side (CloseReceive), which cancels a
// call that has not ended. The request side is the caller's to close.
func (s *BidiStreamCall[Req, Res]) All() iter.Seq2[*Res, error] {
	return func(yield func(*Res, error) bool) {
		defer s.CloseReceive()
		for msg, err := range receiveAll[Res](s.conn.Receive) {
			if !yield(msg, err) {
				return
			}
		}
	}
}

// CloseReceive releases the response side. A call abandoned before the end
// of its responses is canceled first, even after CloseSend, so CloseReceive
// returns at once whatever the server does.
func (s *BidiStreamCall[Req, Res]) CloseReceive() error {
	s.closeOnce.Do(func() { s.closeErr = s.conn.CloseResponse() })
	return s.closeErr
}

// ResponseHeader returns the response headers, available once Receive returned.
func (s *BidiStreamCall[Req, Res]) ResponseHeader() http.Header { return s.conn.ResponseHeader() }

// ResponseTrailer returns the trailers, available once Receive returned io.EOF
// or an error.
func (s *BidiStreamCall[Req, Res]) ResponseTrailer() http.Header {
	return s.conn.ResponseTrailer()
}

// Conn returns the untyped connection.
func (s *BidiStreamCall[Req, Res]) Conn() StreamingClientConn { return s.conn }

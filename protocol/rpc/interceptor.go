package rpc

import (
	"context"
	"net/http"
)

// StreamingClientConn is the client side of a streaming call as an
// interceptor sees it.
//
// Concurrency: Send and CloseRequest (the request side) may run concurrently
// with Receive and CloseResponse (the response side), but each side must be
// used by one goroutine at a time. Spec and Peer may be called from any
// goroutine. RequestHeader may be changed only before the first Send,
// CloseRequest or Receive, which start the call; ResponseHeader may be read
// once Receive has returned, ResponseTrailer once Receive has returned io.EOF
// or an error.
//
// Messages: Send marshals msg before it returns, so the caller may reuse or
// change msg afterwards. Receive fills msg, which must not be in use
// elsewhere.
//
// Headers: keys beginning with "Connect-", "Grpc-" or "Trailer-", and
// Content-Type, Content-Encoding, Accept-Encoding, Te and User-Agent are
// reserved for the protocols; values set there are replaced or rejected.
// Keys ending in "-Bin" carry binary values (see EncodeBinaryHeader).
type StreamingClientConn interface {
	Spec() Spec
	Peer() Peer
	RequestHeader() http.Header
	// Send sends a message. Its error is io.EOF when the server has ended the
	// call; Receive then reports the real status.
	Send(msg any) error
	CloseRequest() error
	// Receive reads a message into msg; io.EOF means the stream ended cleanly.
	Receive(msg any) error
	ResponseHeader() http.Header
	ResponseTrailer() http.Header
	CloseResponse() error
}

// StreamingHandlerConn is the handler side of a streaming call as an
// interceptor sees it.
//
// Concurrency: Receive and Send may run concurrently with each other (a
// bidirectional handler's receiver and sender), but each must be used by one
// goroutine at a time. Spec, Peer and RequestHeader may be called from any
// goroutine; ResponseHeader may be changed until the first Send (or
// SendHeader), ResponseTrailer until the handler returns, by one goroutine at
// a time. No method may be used after the handler has returned.
//
// Messages: Send marshals msg before it returns (the bytes may still be
// queued for the network), so the handler may reuse or change msg afterwards.
// Receive fills msg, which must not be in use elsewhere.
//
// Headers and trailers: the prefixes reserved on StreamingClientConn are
// reserved here too.
type StreamingHandlerConn interface {
	Spec() Spec
	Peer() Peer
	// Receive reads a message into msg; io.EOF means the client is done.
	Receive(msg any) error
	RequestHeader() http.Header
	Send(msg any) error
	ResponseHeader() http.Header
	ResponseTrailer() http.Header
}

// ClientUnaryFunc is one step of a client's unary call: it sends req and
// returns the response. req and the result are the typed messages (*Req and
// *Res) as any. The call's CallInfo is in ctx (see ClientCallInfo).
type ClientUnaryFunc func(ctx context.Context, req any) (any, error)

// ClientStreamFunc is one step of opening a client's streaming call. It
// returns the stream, or an error for a call refused before it starts; it
// never returns a nil stream with a nil error. The call's CallInfo is in ctx
// (see ClientCallInfo).
type ClientStreamFunc func(ctx context.Context) (StreamingClientConn, error)

// ClientInterceptor wraps the calls of a client. A Client builds its chain
// once, when it is created: each Wrap method is called once per Client with
// the Spec of the procedure the Client calls, so an interceptor can decide
// then what to do for that procedure, precompute what it needs, and return
// next unchanged for a procedure it leaves alone, at no cost per call.
//
// WrapClientUnary wraps unary calls; the innermost step performs one
// attempt of the call, and an interceptor (a retry) may run it more than
// once. WrapClientStream wraps the opening of streaming calls; an
// interceptor refuses a stream by returning (nil, err), and it may return a
// StreamingClientConn of its own that wraps the one next returned.
//
// Inside a client interceptor ClientCallInfo always finds the call's
// CallInfo: the client attaches one when the caller has not. The first
// interceptor given to WithClientInterceptors is the outermost.
type ClientInterceptor interface {
	WrapClientUnary(spec Spec, next ClientUnaryFunc) ClientUnaryFunc
	WrapClientStream(spec Spec, next ClientStreamFunc) ClientStreamFunc
}

// HandlerCallFunc is one step of a call on a handler, of any kind. conn
// gives the call's messages: Receive reads (and decodes) a request, Send
// writes a response. For a unary method, conn.Receive decodes the single
// request and conn.Send writes the response, both called by the innermost
// step; an interceptor may wrap conn to watch them but must not call them
// itself. The call's CallInfo is in ctx (see HandlerCallInfo).
type HandlerCallFunc func(ctx context.Context, conn StreamingHandlerConn) error

// HandlerUnaryFunc is one step of a unary method on a handler: it runs the
// method on the decoded request. req and the result are the typed messages
// (*Req and *Res) as any.
type HandlerUnaryFunc func(ctx context.Context, req any) (any, error)

// HandlerInterceptor wraps the calls of a handler. A Handler builds its
// chains once, when it is created: each Wrap method is called once per
// Handler with the Handler's Spec, so an interceptor can decide then what
// to do for that procedure and return next unchanged for a procedure it
// leaves alone, at no cost per call.
//
// Every call, of every kind, first runs the call chain (WrapHandlerCall),
// before any request message is read or decoded: the procedure, the request
// headers and the peer (its TLS state included) are known, nothing else. An
// interceptor that refuses a call (authentication, a rate limit) does so
// there, by returning an error without calling next: the request is then
// never read, and the interceptors before it in the chain (logging,
// recovery, tracing, metrics) see the call end with that error. The context
// it passes to next replaces the call's (to carry an identity, say). For a
// streaming method the innermost call step runs the method. For a unary
// method it decodes the request, runs the unary chain (WrapHandlerUnary,
// which sees the decoded request and the response) and sends the response.
//
// Inside a handler interceptor HandlerCallInfo always finds the call's
// CallInfo. The first interceptor given to WithHandlerInterceptors is the
// outermost, in both chains.
type HandlerInterceptor interface {
	WrapHandlerCall(spec Spec, next HandlerCallFunc) HandlerCallFunc
	WrapHandlerUnary(spec Spec, next HandlerUnaryFunc) HandlerUnaryFunc
}

// ClientUnaryInterceptorFunc is a ClientInterceptor for unary calls only:
// streams pass through it unchanged.
type ClientUnaryInterceptorFunc func(spec Spec, next ClientUnaryFunc) ClientUnaryFunc

// WrapClientUnary implements ClientInterceptor by calling f.
func (f ClientUnaryInterceptorFunc) WrapClientUnary(spec Spec, next ClientUnaryFunc) ClientUnaryFunc {
	return f(spec, next)
}

// WrapClientStream implements ClientInterceptor by returning next.
func (f ClientUnaryInterceptorFunc) WrapClientStream(_ Spec, next ClientStreamFunc) ClientStreamFunc {
	return next
}

// ClientStreamInterceptorFunc is a ClientInterceptor for streaming calls
// only: unary calls pass through it unchanged.
type ClientStreamInterceptorFunc func(spec Spec, next ClientStreamFunc) ClientStreamFunc

// WrapClientUnary implements ClientInterceptor by returning next.
func (f ClientStreamInterceptorFunc) WrapClientUnary(_ Spec, next ClientUnaryFunc) ClientUnaryFunc {
	return next
}

// WrapClientStream implements ClientInterceptor by calling f.
func (f ClientStreamInterceptorFunc) WrapClientStream(spec Spec, next ClientStreamFunc) ClientStreamFunc {
	return f(spec, next)
}

// HandlerCallInterceptorFunc is a HandlerInterceptor that joins the call
// chain only (every kind of call, before the request is read); the unary
// chain passes through it unchanged.
type HandlerCallInterceptorFunc func(spec Spec, next HandlerCallFunc) HandlerCallFunc

// WrapHandlerCall implements HandlerInterceptor by calling f.
func (f HandlerCallInterceptorFunc) WrapHandlerCall(spec Spec, next HandlerCallFunc) HandlerCallFunc {
	return f(spec, next)
}

// WrapHandlerUnary implements HandlerInterceptor by returning next.
func (f HandlerCallInterceptorFunc) WrapHandlerUnary(_ Spec, next HandlerUnaryFunc) HandlerUnaryFunc {
	return next
}

// HandlerUnaryInterceptorFunc is a HandlerInterceptor that joins the unary
// chain only (decoded request and response of unary methods); the call
// chain passes through it unchanged.
type HandlerUnaryInterceptorFunc func(spec Spec, next HandlerUnaryFunc) HandlerUnaryFunc

// WrapHandlerCall implements HandlerInterceptor by returning next.
func (f HandlerUnaryInterceptorFunc) WrapHandlerCall(_ Spec, next HandlerCallFunc) HandlerCallFunc {
	return next
}

// WrapHandlerUnary implements HandlerInterceptor by calling f.
func (f HandlerUnaryInterceptorFunc) WrapHandlerUnary(spec Spec, next HandlerUnaryFunc) HandlerUnaryFunc {
	return f(spec, next)
}

func chainClientUnary(spec Spec, next ClientUnaryFunc, interceptors []ClientInterceptor) ClientUnaryFunc {
	for i := len(interceptors) - 1; i >= 0; i-- {
		next = interceptors[i].WrapClientUnary(spec, next)
	}
	return next
}

func chainClientStream(spec Spec, next ClientStreamFunc, interceptors []ClientInterceptor) ClientStreamFunc {
	for i := len(interceptors) - 1; i >= 0; i-- {
		next = interceptors[i].WrapClientStream(spec, next)
	}
	return next
}

func chainHandlerCall(spec Spec, next HandlerCallFunc, interceptors []HandlerInterceptor) HandlerCallFunc {
	for i := len(interceptors) - 1; i >= 0; i-- {
		next = interceptors[i].WrapHandlerCall(spec, next)
	}
	return next
}

func chainHandlerUnary(spec Spec, next HandlerUnaryFunc, interceptors []HandlerInterceptor) HandlerUnaryFunc {
	for i := len(interceptors) - 1; i >= 0; i-- {
		next = interceptors[i].WrapHandlerUnary(spec, next)
	}
	return next
}

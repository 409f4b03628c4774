package rpc

import (
	"context"
	"net/http"
)

// UnaryFunc is one step of a unary call: on a client it sends req and
// returns the response; on a handler it runs the method. req and the result
// are the typed messages (*Req and *Res) as any. The call's CallInfo is in ctx.
type UnaryFunc func(ctx context.Context, req any) (any, error)

// StreamingClientFunc opens the client side of a streaming call.
type StreamingClientFunc func(ctx context.Context, spec Spec) StreamingClientConn

// StreamingHandlerFunc runs the handler side of a streaming call.
type StreamingHandlerFunc func(ctx context.Context, conn StreamingHandlerConn) error

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

// Interceptor wraps calls on clients and handlers. WrapUnary wraps unary
// calls on both sides; WrapStreamingClient and WrapStreamingHandler wrap the
// streaming ones. An interceptor that has nothing to do for a kind returns
// next unchanged.
type Interceptor interface {
	WrapUnary(next UnaryFunc) UnaryFunc
	WrapStreamingClient(next StreamingClientFunc) StreamingClientFunc
	WrapStreamingHandler(next StreamingHandlerFunc) StreamingHandlerFunc
}

// HandlerGate is implemented by handler interceptors that decide on a call
// from what arrives before its first request message: the procedure, the
// request headers and the peer (its TLS state included). A handler calls the
// Gate of each of its interceptors that has one, in the order they were
// given, before it reads any request message and before its interceptor chain
// runs. The context a Gate returns replaces the call's (to carry an identity,
// say); an error ends the call at once with that error: the request is never
// read or decoded, and no interceptor's Wrap function sees the call. Clients
// never call Gate. An interceptor that wraps another should implement
// HandlerGate by calling the inner one's, or the inner check runs only later,
// in its Wrap functions.
type HandlerGate interface {
	Gate(ctx context.Context) (context.Context, error)
}

// UnaryInterceptorFunc is an Interceptor for unary calls only.
type UnaryInterceptorFunc func(next UnaryFunc) UnaryFunc

// WrapUnary implements Interceptor.
func (f UnaryInterceptorFunc) WrapUnary(next UnaryFunc) UnaryFunc { return f(next) }

// WrapStreamingClient implements Interceptor by returning next.
func (f UnaryInterceptorFunc) WrapStreamingClient(next StreamingClientFunc) StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements Interceptor by returning next.
func (f UnaryInterceptorFunc) WrapStreamingHandler(next StreamingHandlerFunc) StreamingHandlerFunc {
	return next
}

func chainUnary(next UnaryFunc, interceptors []Interceptor) UnaryFunc {
	for i := len(interceptors) - 1; i >= 0; i-- {
		next = interceptors[i].WrapUnary(next)
	}
	return next
}

func chainStreamingClient(next StreamingClientFunc, interceptors []Interceptor) StreamingClientFunc {
	for i := len(interceptors) - 1; i >= 0; i-- {
		next = interceptors[i].WrapStreamingClient(next)
	}
	return next
}

func chainStreamingHandler(next StreamingHandlerFunc, interceptors []Interceptor) StreamingHandlerFunc {
	for i := len(interceptors) - 1; i >= 0; i-- {
		next = interceptors[i].WrapStreamingHandler(next)
	}
	return next
}

package rpc

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"sync"
)

// Peer describes the other side of a call.
type Peer struct {
	// Addr is the peer's address: the remote address on a handler, the
	// host of the base URL on a client.
	Addr string
	// Protocol is the call's wire protocol.
	Protocol Protocol
	// Query holds the URL query parameters of a handler's request (Connect
	// GET puts the message there).
	Query url.Values
	// TLS is the state of the TLS connection a handler's request came on
	// (its verified client certificates, for one), nil without TLS. It is
	// nil on clients.
	TLS *tls.ConnectionState
}

// CallInfo is the information of one call: its procedure and protocol, the
// peer, request and response headers and trailers.
//
// In a handler, HandlerCallInfo returns the CallInfo of the call being
// served; the handler may add response headers until it sends the first
// message (for unary: until it returns) and response trailers until it
// returns.
//
// On a client, ClientCallInfo returns the CallInfo of the outgoing call.
// NewClientContext attaches a fresh one to a context: headers
// set on RequestHeader before the call are sent, and the response headers and
// trailers are filled in when the call completes. The call never writes into
// RequestHeader: each attempt (each pass through the innermost step of the
// interceptor chain, which a retrying interceptor may run several times) sends
// a copy of it with the protocol's own headers (content type, timeout) added,
// and gets fresh ResponseHeader and ResponseTrailer maps, so an attempt reports
// only its own response and a CallInfo reused for another call carries nothing
// stale into it. Attempts that run concurrently (hedging) need a CallInfo each.
//
// Concurrency: a handler's CallInfo may be read from several goroutines (a
// bidirectional handler's sender and receiver); writes to its header and
// trailer maps must be synchronised by the handler, as for any map. A client's
// CallInfo belongs to the goroutine making the call until the call returns
// (for streams: until the response side has ended).
//
// The two sides have separate context keys: a handler that calls another
// service with its own context makes an outgoing call with a CallInfo of its
// own (the client attaches one), never its served call's, and
// NewClientContext inside a handler does not hide HandlerCallInfo.
type CallInfo struct {
	spec       Spec
	protocol   Protocol
	method     string
	host       string
	peer       Peer
	reqHeader  http.Header
	resHeader  http.Header
	resTrailer http.Header
	// resHeaderShared: resHeader is a client response's own header map,
	// taken as it is (see adoptResponseHeader).
	resHeaderShared bool
	wire            wireSizes // the last message's sizes (wire_size.go)
	// mapMu guards the lazy creation of the header and trailer maps: a
	// handler creates resTrailer only when asked for it, a client each of
	// the three (see client_context.go).
	mapMu sync.Mutex
	// sendHeader sends a streaming handler's response headers early; nil
	// where that is not possible (clients, unary handlers).
	sendHeader func() error
	// compression is the handler conn, for SetResponseCompression; an
	// interface rather than a method value, which would allocate per call.
	compression compressionChooser
}

type compressionChooser interface{ setCompression(name string) error }

// The context keys of the two sides' CallInfo.
type (
	handlerCallInfoKey struct{}
	clientCallInfoKey  struct{}
)

// HandlerCallInfo returns the CallInfo of the call that the handler whose
// context ctx is (or derives from) is serving. Inside a handler interceptor
// it always finds one.
func HandlerCallInfo(ctx context.Context) (*CallInfo, bool) {
	ci, ok := ctx.Value(handlerCallInfoKey{}).(*CallInfo)
	return ci, ok && ci != nil
}

// ClientCallInfo returns the CallInfo of the outgoing call that ctx is for:
// one that NewClientContext attached, or, inside a client interceptor, the
// one the client attached. A handler's own context has none.
func ClientCallInfo(ctx context.Context) (*CallInfo, bool) {
	ci, ok := ctx.Value(clientCallInfoKey{}).(*CallInfo)
	return ci, ok && ci != nil
}

// NewClientContext returns a context carrying a fresh client-side CallInfo.
// Pass the context to one client call: set request headers on the CallInfo
// first, read response headers and trailers after the call. It leaves the
// HandlerCallInfo of ctx, if any, in place.
func NewClientContext(ctx context.Context) (context.Context, *CallInfo) {
	return newClientContext(ctx)
}

// handlerContext is the context of a call being served: its parent (the
// request's context, with the call's timeout) and the call's CallInfo, which
// HandlerCallInfo finds. It hides any client CallInfo of the parent (a
// request made in process from a client's context), so that an outgoing call
// made with the handler's context never fills in its caller's CallInfo. A
// handler conn embeds one, which saves the allocation of context.WithValue.
type handlerContext struct {
	context.Context
	info *CallInfo
}

// Value implements context.Context.
func (c *handlerContext) Value(key any) any {
	switch key.(type) {
	case handlerCallInfoKey:
		return c.info
	case clientCallInfoKey:
		return nil
	}
	return c.Context.Value(key)
}

// Spec returns the called procedure's Spec.
func (c *CallInfo) Spec() Spec { return c.spec }

// Procedure returns the procedure path, "/package.Service/Method".
func (c *CallInfo) Procedure() string { return c.spec.Procedure }

// Protocol returns the call's wire protocol.
func (c *CallInfo) Protocol() Protocol { return c.protocol }

// Host returns the authority the call was addressed to, "host" or
// "host:port": the request's Host header (HTTP/2 and HTTP/3 :authority) on a
// handler, the host of the base URL on a client.
func (c *CallInfo) Host() string { return c.host }

// HTTPMethod returns the HTTP method of the call, GET or POST.
func (c *CallInfo) HTTPMethod() string { return c.method }

// Peer returns the other side of the call.
func (c *CallInfo) Peer() Peer { return c.peer }

// RequestHeader returns the request headers.
func (c *CallInfo) RequestHeader() http.Header { return c.lazyMap(&c.reqHeader) }

// ResponseHeader returns the response headers.
func (c *CallInfo) ResponseHeader() http.Header { return c.lazyMap(&c.resHeader) }

// ResponseTrailer returns the response trailers.
func (c *CallInfo) ResponseTrailer() http.Header { return c.lazyMap(&c.resTrailer) }

// lazyMap returns *m, made first if it is nil. Maps are made only when
// someone asks for them (handlers' trailers, clients' headers and
// trailers), and two goroutines may ask first (a bidirectional handler's,
// or readers of a finished call).
func (c *CallInfo) lazyMap(m *http.Header) http.Header {
	c.mapMu.Lock()
	defer c.mapMu.Unlock()
	if *m == nil {
		*m = make(http.Header)
	}
	return *m
}

// clientCallInfo returns the caller's CallInfo from ctx, or nil.
func clientCallInfo(ctx context.Context) *CallInfo {
	ci, _ := ctx.Value(clientCallInfoKey{}).(*CallInfo)
	return ci
}

// SendHeader sends the response headers of the streaming call handled in ctx
// now, before its first message, so that a client waiting for them (to read
// metadata, or to know the call was accepted) need not wait for a message.
// Headers added afterwards are not sent. It does nothing if the headers have
// already gone out with a message. Unary handlers send their headers with the
// response, and SendHeader returns an error for them, as it does on a client.
func SendHeader(ctx context.Context) error {
	ci, ok := HandlerCallInfo(ctx)
	if !ok {
		return errorf(CodeInternal, "SendHeader: no handler call in the context")
	}
	if ci.sendHeader == nil {
		return errorf(CodeInternal, "SendHeader: only streaming handlers can send headers before the response")
	}
	return ci.sendHeader()
}

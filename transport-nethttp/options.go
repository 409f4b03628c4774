package nethttp

import (
	"context"
	"log"
	"net"
	"net/http"
	"net/url"
)

// ServerOption configures a [Server] beyond what transport.Config holds.
type ServerOption interface {
	applyServer(*serverOptions)
}

// ClientOption configures a [Client] beyond what transport.Config holds.
type ClientOption interface {
	applyClient(*clientOptions)
}

type serverOptions struct {
	listener net.Listener
	errorLog *log.Logger
	hooks    []func(*http.Server)
}

type clientOptions struct {
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	proxy    func(*http.Request) (*url.URL, error)
	proxySet bool
	hooks    []func(*http.Transport)
}

type serverOptionFunc func(*serverOptions)

func (f serverOptionFunc) applyServer(o *serverOptions) { f(o) }

type clientOptionFunc func(*clientOptions)

func (f clientOptionFunc) applyClient(o *clientOptions) { f(o) }

// WithListener makes the server accept connections from l instead of
// listening on Config.Addr, which may then be empty: for socket
// activation, or a listener opened earlier to learn its port. The server
// closes l when it stops. For TLS transports, l must be a plain listener;
// the server adds TLS.
func WithListener(l net.Listener) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.listener = l })
}

// WithErrorLog sets the logger for errors net/http reports on its own,
// such as failed TLS handshakes, HTTP/2 connection errors and panics in
// handlers. It wins over Config.Logger, where they go by default (see
// transport.Config.ServerErrorLog).
func WithErrorLog(l *log.Logger) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.errorLog = l })
}

// WithServerHook calls fn with the *http.Server once it is configured from
// Config and before it serves, for settings Config does not cover (ConnState,
// ConnContext, HTTP2 tuning). What fn changes wins. Replacing BaseContext
// stops Shutdown from cancelling calls when its context ends.
func WithServerHook(fn func(*http.Server)) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.hooks = append(o.hooks, fn) })
}

// WithDialer makes the client open connections with dial instead of a
// net.Dialer with Config.DialTimeout. TLS, when used, is still added by
// the client.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) ClientOption {
	return clientOptionFunc(func(o *clientOptions) { o.dial = dial })
}

// WithProxy sets the function that picks a proxy for each request; nil
// means no proxy. By default http1 and h2 clients use the proxy named by
// the HTTPS_PROXY, HTTP_PROXY and NO_PROXY environment variables
// ([http.ProxyFromEnvironment]) and h2c clients use none, since HTTP/2
// with prior knowledge cannot pass through an HTTP/1.1 proxy.
func WithProxy(proxy func(*http.Request) (*url.URL, error)) ClientOption {
	return clientOptionFunc(func(o *clientOptions) { o.proxy, o.proxySet = proxy, true })
}

// WithTransportHook calls fn with the client's *http.Transport once it is
// configured from Config, for settings Config does not cover. What fn
// changes wins.
func WithTransportHook(fn func(*http.Transport)) ClientOption {
	return clientOptionFunc(func(o *clientOptions) { o.hooks = append(o.hooks, fn) })
}

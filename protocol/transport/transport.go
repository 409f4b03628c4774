// Package transport is the contract between polyconnect and the modules
// that move HTTP requests: the [Transport], [Server] and [Client]
// interfaces, the plain-data [Config] that selects and configures one, and a
// registry of transports by name.
//
// A transport module registers its names when it is imported, so the
// program that wants HTTP/3 instead of HTTP/2 changes a config value and one
// blank import:
//
//	import _ "polyconnect.dev/transport-nethttp" // registers "http1", "h2c", "h2"
//	import _ "polyconnect.dev/transport-http3"   // registers "h3"
//
//	srv, err := transport.NewServer(cfg, mux) // cfg.Name picks the transport
//
// The registry is filled by init functions and only read afterwards; it
// never changes how a transport behaves. Code that knows which transport it
// wants can skip the registry and call the transport module's constructors,
// which also take Go options for what a Config cannot express.
//
// Transports know nothing of Connect, gRPC or gRPC-Web: a server serves an
// http.Handler, a client does an *http.Request. Package rpc builds on top.
//
// # Failures
//
// Every transport reports failures in the words of errors.go (stream
// reset, not processed, connection lost, dial, TLS), from Client.Do, from
// reads of a response body and, on servers, from reads of a request body;
// package rpc maps them to status codes in one place. See
// [StreamResetError] and the errors beside it.
//
// # Request bodies
//
// What a Client may assume of a request body, and what callers (package
// rpc's bodies among them) must provide:
//
//   - A body whose Len method (Len() int, the bytes left to read) exists,
//     or a request with a positive ContentLength, is in memory: reading it
//     never waits. A transport may read it ahead, before the response, and
//     send it with the headers (transport-h2 queues up to 64 KiB of it in
//     the same write). Len must be exact.
//   - Any other body (ContentLength 0 or -1 and no Len) may wait for its
//     caller, who may be waiting for the response: a bidirectional stream.
//     A transport sends the headers first and streams the body while the
//     response arrives; over HTTP/2 and HTTP/3 both directions flow at once.
//   - A Read may return its last bytes together with io.EOF; they are part
//     of the body.
//   - A transport closes the body once it is done with it, on every path
//     (failures included), possibly after Do has returned, on another
//     goroutine, more than once, and while its own writer is still in a
//     Read: a body must allow that and fail such a Read rather than touch
//     memory it has given back.
//   - With GetBody set, a transport may send a request that was not
//     processed (a refused stream, one above a GOAWAY) again, with a new
//     body from GetBody, which starts from the beginning.
//
// Package transporttest's BodyContract checks a transport against this.
package transport

import (
	"context"
	"net"
	"net/http"
)

// Names of the transports polyconnect's transport modules register.
const (
	NameHTTP1 = "http1" // HTTP/1.1, cleartext or TLS (polyconnect.dev/transport-nethttp)
	NameH2C   = "h2c"   // cleartext HTTP/2 with prior knowledge (polyconnect.dev/transport-nethttp)
	NameH2    = "h2"    // HTTP/2 over TLS (polyconnect.dev/transport-nethttp)
	NameH3    = "h3"    // HTTP/3 over QUIC (polyconnect.dev/transport-http3)
)

// Transport builds servers and clients for one protocol. Implementations
// are registered under a name with [Register] and must be safe for
// concurrent use.
type Transport interface {
	// NewServer validates cfg and returns a server for h that is not yet
	// listening. It fails on a configuration the transport cannot honour,
	// such as a TLS transport without a certificate.
	NewServer(cfg Config, h http.Handler) (Server, error)
	// NewClient validates cfg and returns a client with its own connection
	// pool.
	NewClient(cfg Config) (Client, error)
}

// Server is a server built by a [Transport]. Its methods are safe for
// concurrent use; in particular Shutdown and Close may be called while
// Serve blocks in another goroutine.
type Server interface {
	// Start listens on the configured address and serves in the
	// background. It returns once the listener is bound, so Addr and URL
	// are valid after it, and reports listen errors. It fails if called
	// twice or after Shutdown or Close.
	Start() error
	// Serve starts the server if Start has not been called, then blocks
	// until the server stops. It returns nil when stopped by Shutdown or
	// Close, once that has finished, and otherwise the error that stopped
	// it.
	Serve() error
	// Addr returns the address the server listens on, with the actual
	// port when the configured port was 0, or nil before Start.
	Addr() net.Addr
	// URL returns the base URL of the server, "http://host:port" or
	// "https://host:port", or "" before Start. A server listening on all
	// interfaces reports a loopback host, so the URL can be dialled
	// locally.
	URL() string
	// Shutdown stops the server gracefully: it stops accepting
	// connections and waits for in-flight calls, unary and streaming, to
	// finish. If ctx ends first, it cancels the remaining calls' contexts,
	// closes their connections and returns ctx's error.
	Shutdown(ctx context.Context) error
	// Close stops the server at once, closing all connections and
	// cancelling in-flight calls.
	Close() error
}

// Client is a client built by a [Transport]: an HTTP client with its own
// pool of connections. It satisfies rpc.HTTPClient. Its methods are safe
// for concurrent use.
type Client interface {
	// Do sends an HTTP request and returns its response, as
	// [http.Client.Do] does. Clients do not follow redirects: a redirect
	// status is returned to the caller.
	Do(req *http.Request) (*http.Response, error)
	// CloseIdleConnections closes the pooled connections that carry no
	// call. Connections in use are not interrupted.
	CloseIdleConnections()
	// URL returns the base URL for Config.Addr with the scheme the
	// transport speaks ("http://host:port" or "https://host:port"), or ""
	// if Addr is empty. Passing it to rpc.NewClient keeps the scheme in
	// step with the transport name.
	URL() string
}

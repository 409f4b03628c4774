// Package nethttp provides polyconnect's HTTP/1.1, h2c and HTTP/2
// transports, built on net/http alone. The package is named nethttp; it
// lives in the folder (and module) transport-nethttp, so import it as
//
//	import nethttp "polyconnect.dev/transport-nethttp"
//
// or, to use it only through package transport's registry,
//
//	import _ "polyconnect.dev/transport-nethttp"
//
// Importing it registers three names with package transport:
//
//   - "http1": HTTP/1.1 only, cleartext, or over TLS when Config.TLS is set.
//     Bidirectional streams are half duplex.
//   - "h2c": HTTP/2 without TLS, with prior knowledge. Servers answer
//     HTTP/1.1 on the same port too; clients speak HTTP/2 only.
//   - "h2": HTTP/2 over TLS, negotiated with ALPN. Servers also answer
//     HTTP/1.1 over TLS (browsers, gRPC-Web, curl); clients insist on
//     HTTP/2, so bidirectional streams are always full duplex.
//
// Servers come with production defaults: a read-header timeout, an idle
// timeout and a header size limit (see the Default constants). Read and
// write timeouts stay off unless configured, because streaming calls are
// long-lived; give calls deadlines instead. [Server.Shutdown] is graceful:
// it lets in-flight unary and streaming calls finish.
//
// Clients are *http.Client values with a pooled, keep-alive connection
// pool. They do not follow redirects and do not ask for transparent gzip,
// so the RPC layer sees the exchange as it is.
//
// Code that does not use transport.Config files can call [NewServer] and
// [NewClient] directly: they return the concrete types and take Go options
// for what a Config cannot hold, such as a ready listener or a custom
// dialer.
package nethttp

import (
	"fmt"
	"net/http"
	"time"

	"polyconnect.dev/protocol/transport"
)

// Defaults for the Config fields left at zero.
const (
	// DefaultReadHeaderTimeout bounds how long a server waits for request
	// headers, against slow-loris clients.
	DefaultReadHeaderTimeout = transport.DefaultReadHeaderTimeout
	// DefaultServerIdleTimeout is how long a server keeps an idle
	// keep-alive connection.
	DefaultServerIdleTimeout = transport.DefaultServerIdleTimeout
	// DefaultMaxHeaderBytes limits the request headers a server accepts,
	// over HTTP/1.1 and, as the header list size it advertises, over
	// HTTP/2. It is far below net/http's 1 MiB: an HTTP/2 connection may
	// hold a header block per open stream, so one connection can pin up
	// to MaxConcurrentStreams times this much (250 × 64 KiB = 16 MiB, not
	// 250 MiB), and RPC metadata rarely needs more than a few KiB.
	DefaultMaxHeaderBytes = transport.DefaultMaxHeaderBytes
	// DefaultClientIdleTimeout is how long a client keeps an idle pooled
	// connection. It is shorter than DefaultServerIdleTimeout, so a client
	// drops a connection before the server closes it under a new request.
	DefaultClientIdleTimeout = transport.DefaultClientIdleTimeout
	// DefaultDialTimeout bounds how long a client waits for a TCP
	// connection.
	DefaultDialTimeout = transport.DefaultDialTimeout
	// DefaultTLSHandshakeTimeout bounds a client's TLS handshake.
	DefaultTLSHandshakeTimeout = transport.DefaultTLSHandshakeTimeout
	// DefaultMaxIdleConns is how many idle connections a client keeps in
	// all.
	DefaultMaxIdleConns = transport.DefaultMaxIdleConns
	// DefaultMaxIdleConnsPerHost is how many idle connections a client
	// keeps to one host. RPC clients usually talk to few hosts, so it is
	// far above net/http's default of 2, which makes HTTP/1.1 clients
	// under load open and close connections all the time.
	DefaultMaxIdleConnsPerHost = transport.DefaultMaxIdleConnsPerHost
)

func init() {
	for _, name := range []string{transport.NameHTTP1, transport.NameH2C, transport.NameH2} {
		transport.Register(name, registered{name: name})
	}
}

// registered is the transport.Transport registered under one name; the
// name it was registered under is the one it builds, whatever cfg.Name
// says.
type registered struct{ name string }

func (r registered) NewServer(cfg transport.Config, h http.Handler) (transport.Server, error) {
	cfg.Name = r.name
	return NewServer(cfg, h)
}

func (r registered) NewClient(cfg transport.Config) (transport.Client, error) {
	cfg.Name = r.name
	return NewClient(cfg)
}

// checkName reports an error for a name this package does not serve.
func checkName(name string) error {
	switch name {
	case transport.NameHTTP1, transport.NameH2C, transport.NameH2:
		return nil
	}
	return fmt.Errorf("nethttp: transport name %q is not one of %q, %q, %q", name, transport.NameHTTP1, transport.NameH2C, transport.NameH2)
}

// orDefault turns a configured duration into the one to use: zero means
// def, negative means none (0 for net/http).
func orDefault(d transport.Duration, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return time.Duration(d)
}

func orDefaultInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

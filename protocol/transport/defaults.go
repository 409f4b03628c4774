package transport

import "time"

// The defaults every transport applies to the Config fields left at zero,
// so that a config file means the same on every transport. A transport may
// not honour a field at all (its documentation says which); it does not
// pick another default for one it honours.
const (
	// DefaultReadHeaderTimeout bounds how long a server waits for a
	// request's headers (and, for HTTP/2 servers, the TLS handshake and
	// the connection preface), against slow-loris clients.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultServerIdleTimeout is how long a server keeps a connection
	// that carries no call before it closes it.
	DefaultServerIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes limits the request headers a server accepts
	// (over HTTP/2 and HTTP/3, the header list size it advertises). An
	// HTTP/2 or HTTP/3 connection may hold a header block per open stream,
	// so one connection can pin up to DefaultMaxConcurrentStreams times
	// this much; RPC metadata rarely needs more than a few KiB.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxConcurrentStreams is how many streams (calls) a server
	// lets one HTTP/2 or HTTP/3 connection have open at once.
	DefaultMaxConcurrentStreams = 250
	// DefaultClientIdleTimeout is how long a client keeps a connection
	// that carries no call. It is shorter than DefaultServerIdleTimeout, so
	// a client drops a connection before the server closes it under a new
	// call.
	DefaultClientIdleTimeout = 90 * time.Second
	// DefaultDialTimeout bounds how long a client waits for a new
	// connection.
	DefaultDialTimeout = 30 * time.Second
	// DefaultTLSHandshakeTimeout bounds a client's TLS handshake.
	DefaultTLSHandshakeTimeout = 10 * time.Second
	// DefaultMaxIdleConns is how many idle connections a client keeps in
	// all.
	DefaultMaxIdleConns = 100
	// DefaultMaxIdleConnsPerHost is how many idle connections a client
	// keeps to one host.
	DefaultMaxIdleConnsPerHost = 100
	// DefaultPingTimeout is how long a keep-alive ping may go unanswered
	// before the connection is taken for dead.
	DefaultPingTimeout = 15 * time.Second
)

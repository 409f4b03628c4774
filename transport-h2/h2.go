package h2

import (
	"fmt"
	"net/http"
	"time"

	"polyconnect.dev/protocol/transport"
)

// Names this package registers with package transport.
const (
	// NameH2C is cleartext HTTP/2 with prior knowledge on this package's
	// engine: "h2c-rpc".
	NameH2C = "h2c-rpc"
	// NameH2 is HTTP/2 over TLS, negotiated with ALPN, on this package's
	// engine: "h2-rpc".
	NameH2 = "h2-rpc"
)

// Defaults for the Config fields left at zero, and for the settings a
// Config does not hold.
const (
	// DefaultHandshakeTimeout bounds, on servers, the time from accepting a
	// connection to reading the client's preface and first SETTINGS frame
	// (TLS handshake included), and the time a client may take to finish a
	// header block it has started. Config.ReadHeaderTimeout overrides it.
	DefaultHandshakeTimeout = transport.DefaultReadHeaderTimeout
	// DefaultServerIdleTimeout is how long a server keeps a connection that
	// carries no stream before it says GOAWAY and closes it.
	DefaultServerIdleTimeout = transport.DefaultServerIdleTimeout
	// DefaultMaxHeaderBytes limits the decoded size of a request's header
	// list on a server, as HTTP/2 counts it (name, value and 32 bytes per
	// field). It is advertised as SETTINGS_MAX_HEADER_LIST_SIZE. It is
	// transport.DefaultMaxHeaderBytes, the same on every transport.
	DefaultMaxHeaderBytes = transport.DefaultMaxHeaderBytes
	// DefaultClientMaxHeaderBytes limits the response headers (and
	// trailers) a client accepts: larger than a server's limit, because
	// error details travel in gRPC trailers.
	DefaultClientMaxHeaderBytes = 1 << 20
	// DefaultMaxConcurrentStreams is the number of streams a server lets a
	// client open at once on one connection.
	DefaultMaxConcurrentStreams = transport.DefaultMaxConcurrentStreams
	// DefaultClientIdleTimeout is how long a client keeps a connection that
	// carries no stream in its pool.
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
	// keeps to one host.
	DefaultMaxIdleConnsPerHost = transport.DefaultMaxIdleConnsPerHost
	// DefaultPingTimeout is how long a keep-alive PING may go unanswered
	// before the connection is closed as dead.
	DefaultPingTimeout = transport.DefaultPingTimeout
	// DefaultConnBufferLimit bounds what one connection holds of the data
	// it has received and not yet handed to a reader, plus what the peer
	// may still send: 16 MiB, the largest connection window. See
	// WithConnBufferLimit.
	DefaultConnBufferLimit = 16 << 20
	// DefaultFlowControlTimeout is how long a stream (or a connection) may
	// have data to send while the peer keeps its flow-control window shut
	// before the stream is reset (or the connection closed). A peer that
	// never opens its window would otherwise hold a handler forever.
	DefaultFlowControlTimeout = 2 * time.Minute
)

func init() {
	transport.Register(NameH2C, registered{name: NameH2C})
	transport.Register(NameH2, registered{name: NameH2})
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
	case NameH2C, NameH2:
		return nil
	}
	return fmt.Errorf("h2: transport name %q is not %q or %q", name, NameH2C, NameH2)
}

// orDefault turns a configured duration into the one to use: zero means
// def, negative means none (0).
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

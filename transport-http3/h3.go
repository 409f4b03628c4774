package h3

import (
	"fmt"
	"net/http"
	"time"

	"polyconnect.dev/protocol/transport"
)

// Defaults for the Config fields left at zero.
const (
	// DefaultServerIdleTimeout is how long a server keeps a connection
	// that carries no request before it closes it.
	DefaultServerIdleTimeout = transport.DefaultServerIdleTimeout
	// DefaultMaxHeaderBytes limits the request headers a server accepts.
	DefaultMaxHeaderBytes = transport.DefaultMaxHeaderBytes
	// DefaultMaxConcurrentStreams is how many request streams a server
	// lets one client connection have open at once; a client's further
	// calls wait for a stream to end.
	DefaultMaxConcurrentStreams = transport.DefaultMaxConcurrentStreams
	// DefaultClientIdleTimeout is how long a client keeps a connection that
	// carries no call. It is shorter than DefaultServerIdleTimeout, so a
	// client drops a connection before the server closes it.
	DefaultClientIdleTimeout = transport.DefaultClientIdleTimeout
	// DefaultDialTimeout bounds how long a client waits for a new QUIC
	// connection, handshake included.
	DefaultDialTimeout = transport.DefaultDialTimeout
	// DefaultTLSHandshakeTimeout is how long a client's handshake may go
	// without hearing from the server before it gives up.
	DefaultTLSHandshakeTimeout = transport.DefaultTLSHandshakeTimeout
	// DefaultPingInterval is how often a client pings a connection that is
	// otherwise silent. QUIC closes a connection that hears nothing for 30
	// seconds, whether or not streams are open on it, so a client pings by
	// default: a stream that waits long for its next message survives.
	DefaultPingInterval = 15 * time.Second
)

func init() {
	transport.Register(transport.NameH3, registered{})
}

// registered is the transport.Transport registered as "h3".
type registered struct{}

func (registered) NewServer(cfg transport.Config, h http.Handler) (transport.Server, error) {
	cfg.Name = transport.NameH3
	return NewServer(cfg, h)
}

func (registered) NewClient(cfg transport.Config) (transport.Client, error) {
	cfg.Name = transport.NameH3
	return NewClient(cfg)
}

// checkName reports an error for a name this package does not serve. An
// empty name is taken as "h3", so direct callers need not set it.
func checkName(name string) error {
	if name == "" || name == transport.NameH3 {
		return nil
	}
	return fmt.Errorf("h3: transport name %q is not %q; the http1, h2c and h2 transports are in polyconnect.dev/transport-nethttp", name, transport.NameH3)
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

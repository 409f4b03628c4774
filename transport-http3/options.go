package h3

import (
	"log/slog"
	"net"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
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
	packetConn net.PacketConn
	companion  bool
	allow0RTT  bool
	logger     *slog.Logger
	hooks      []func(*http3.Server, *quic.Config)
	handshakes handshakeLimits // handshake.go
}

type clientOptions struct {
	packetConn net.PacketConn
	hooks      []func(*http3.Transport, *quic.Config)
}

type serverOptionFunc func(*serverOptions)

func (f serverOptionFunc) applyServer(o *serverOptions) { f(o) }

type clientOptionFunc func(*clientOptions)

func (f clientOptionFunc) applyClient(o *clientOptions) { f(o) }

// WithPacketConn makes the server serve on conn, a UDP socket opened
// earlier, instead of listening on Config.Addr, which may then be empty.
// The server closes conn when it stops. WithHTTP2Companion needs the port
// of conn to be free on TCP too.
func WithPacketConn(conn net.PacketConn) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.packetConn = conn })
}

// WithHTTP2Companion makes the server also listen on TCP, on the same
// address and port, and serve the same handler there over HTTP/2 and
// HTTP/1.1 with TLS, adding an Alt-Svc header that advertises HTTP/3 to
// every response. Browsers and curl find the HTTP/3 server that way, and
// clients that cannot use UDP still get through. Shutdown and Close stop
// both servers.
func WithHTTP2Companion() ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.companion = true })
}

// WithServer0RTT makes the server accept 0-RTT data from clients that
// resume a session, such as browsers, as Config.Allow0RTT does. 0-RTT saves a round trip on
// reconnection, but an attacker can replay 0-RTT requests: only enable it
// when every request a client may send early is safe to repeat. This
// package's Client never sends 0-RTT data (see the package README).
func WithServer0RTT() ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.allow0RTT = true })
}

// WithLogger sets the logger for what quic-go reports on its own, such as
// connections that fail after they were accepted. By default it is
// Config.Logger; with neither, nothing is logged.
func WithLogger(l *slog.Logger) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.logger = l })
}

// WithServerHook calls fn with the *http3.Server and the *quic.Config once
// they are configured from Config and before the server listens, for
// settings Config does not cover (flow-control windows, ConnContext,
// datagrams). What fn changes wins. Setting TLSConfig or Handler there
// replaces what NewServer configured.
func WithServerHook(fn func(*http3.Server, *quic.Config)) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.hooks = append(o.hooks, fn) })
}

// WithClientPacketConn makes the client send from conn, a UDP socket opened
// earlier, instead of one it opens on first use. The client closes conn
// when it is closed.
func WithClientPacketConn(conn net.PacketConn) ClientOption {
	return clientOptionFunc(func(o *clientOptions) { o.packetConn = conn })
}

// WithTransportHook calls fn with the client's *http3.Transport and
// *quic.Config once they are configured from Config, for settings Config
// does not cover. What fn changes wins. Replacing Dial bypasses the
// client's dial timeout, idle tracking and CloseIdleConnections.
func WithTransportHook(fn func(*http3.Transport, *quic.Config)) ClientOption {
	return clientOptionFunc(func(o *clientOptions) { o.hooks = append(o.hooks, fn) })
}

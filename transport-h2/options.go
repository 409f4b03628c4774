package h2

import (
	"context"
	"log"
	"net"
	"time"
)

// ServerOption configures a [Server] beyond what transport.Config holds.
type ServerOption interface {
	applyServer(*serverOptions)
}

// ClientOption configures a [Client] beyond what transport.Config holds.
type ClientOption interface {
	applyClient(*clientOptions)
}

// Option configures both servers and clients.
type Option interface {
	ServerOption
	ClientOption
}

type commonOptions struct {
	pingInterval       time.Duration
	pingTimeout        time.Duration
	flowControlTimeout time.Duration
	writeStallTimeout  time.Duration
	initStream         int32
	initConn           int32
	bdp                bool
	connBuffer         int64
}

func (o *commonOptions) connBufferLimit() int64 {
	if o.connBuffer > 0 {
		return o.connBuffer
	}
	return DefaultConnBufferLimit
}

func (o *commonOptions) streamWindow() int32 {
	if o.initStream > 0 {
		return o.initStream
	}
	return defaultStreamWindow
}

func (o *commonOptions) connWindow() int32 {
	if o.initConn > 0 {
		return o.initConn
	}
	return defaultConnWindow
}

type serverOptions struct {
	commonOptions
	listener net.Listener
	errorLog *log.Logger
	noHTTP1  bool
}

type clientOptions struct {
	commonOptions
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

type serverOptionFunc func(*serverOptions)

func (f serverOptionFunc) applyServer(o *serverOptions) { f(o) }

type clientOptionFunc func(*clientOptions)

func (f clientOptionFunc) applyClient(o *clientOptions) { f(o) }

type commonOptionFunc func(*commonOptions)

func (f commonOptionFunc) applyServer(o *serverOptions) { f(&o.commonOptions) }
func (f commonOptionFunc) applyClient(o *clientOptions) { f(&o.commonOptions) }

// WithListener makes the server accept connections from l instead of
// listening on Config.Addr, which may then be empty. The server closes l
// when it stops. For "h2-rpc", l must be a plain listener: the server adds
// TLS.
func WithListener(l net.Listener) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.listener = l })
}

// WithErrorLog sets the logger for what the server reports on its own,
// such as panics in handlers. By default it is the standard logger.
func WithErrorLog(l *log.Logger) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.errorLog = l })
}

// WithoutHTTP1 makes the server speak HTTP/2 only. By default a server
// serves HTTP/2 on this package's engine and hands every HTTP/1.x
// connection on the same port to a net/http server for the same handler
// (the one-port mode): over TLS it offers ALPN "h2" and "http/1.1", in
// cleartext it tells the two apart by the HTTP/2 connection preface.
// Without HTTP/1.x, a cleartext HTTP/1.1 request gets a 505 answer and TLS
// offers "h2" alone.
func WithoutHTTP1() ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.noHTTP1 = true })
}

// WithKeepalive makes the server send a PING on a connection it has heard
// nothing from for interval, and close the connection if the PING is not
// answered within timeout (DefaultPingTimeout if zero). Clients set their
// interval with Config.PingInterval and may use this option for the
// timeout. Off by default on servers.
func WithKeepalive(interval, timeout time.Duration) Option {
	return commonOptionFunc(func(o *commonOptions) {
		o.pingInterval = interval
		if timeout > 0 {
			o.pingTimeout = timeout
		}
	})
}

// WithFlowControlTimeout sets how long a stream may have data to send
// while the peer keeps its flow-control window shut: after d the stream is
// reset, its writes fail, and if it is the connection's window that stays
// shut, the connection is closed. A negative d turns it off. The default is
// DefaultFlowControlTimeout.
func WithFlowControlTimeout(d time.Duration) Option {
	return commonOptionFunc(func(o *commonOptions) { o.flowControlTimeout = max(d, 0) })
}

// WithWriteStallTimeout closes a connection on which one write to the
// socket has not completed after d: the peer has stopped reading. Off by
// default (keep-alive PINGs find such peers too).
func WithWriteStallTimeout(d time.Duration) Option {
	return commonOptionFunc(func(o *commonOptions) { o.writeStallTimeout = max(d, 0) })
}

// WithInitialWindows sets the flow-control windows a connection opens with
// for each stream and for the connection as a whole, in bytes (zero keeps
// the default: 256 KiB and 1 MiB; neither goes below HTTP/2's initial
// 65,535, which the peer may use before it has seen the connection's
// SETTINGS). They grow from there, up to 8 MiB and 16 MiB, when the
// measured bandwidth-delay product asks for it, unless WithoutWindowGrowth
// is set.
func WithInitialWindows(stream, conn int32) Option {
	return commonOptionFunc(func(o *commonOptions) {
		if stream > 0 {
			o.initStream = max(stream, 65535)
		}
		if conn >= 65535 {
			o.initConn = conn
		}
	})
}

// WithConnBufferLimit bounds the memory a connection may hold for data it
// has received and its handlers (or, on a client, its callers) have not
// read yet: the bytes its streams' buffers hold plus the bytes the peer
// may still send within the connection window never exceed n. While the
// buffers stay nearly empty the connection window goes back to the peer
// as data arrives; as they fill, it is held back until readers catch up,
// and streams that are read then share what is left. Zero keeps the
// default, DefaultConnBufferLimit; values below the connection window are
// raised to it.
func WithConnBufferLimit(n int64) Option {
	return commonOptionFunc(func(o *commonOptions) {
		if n > 0 {
			o.connBuffer = n
		}
	})
}

// WithoutWindowGrowth keeps the flow-control windows at their initial size
// instead of growing them from measured bandwidth-delay.
func WithoutWindowGrowth() Option {
	return commonOptionFunc(func(o *commonOptions) { o.bdp = false })
}

// WithDialer makes the client open TCP connections with dial instead of a
// net.Dialer with Config.DialTimeout. TLS, for "h2-rpc", is still added by
// the client.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) ClientOption {
	return clientOptionFunc(func(o *clientOptions) { o.dial = dial })
}

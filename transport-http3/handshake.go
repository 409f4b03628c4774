package h3

import (
	"context"
	"errors"
	"net"
	"sync/atomic"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// A server under a flood of QUIC Initial packets (each with a new
// connection ID, perhaps from spoofed addresses) would start a handshake,
// with its state and goroutines, for every one of them. The handshake
// guard bounds that:
//
//   - Once more than a few handshakes are in progress (RetryAbove), the
//     server asks new clients to prove their address first with a QUIC
//     Retry (RFC 9000 section 8.1.2). A Retry costs the server no state; a
//     real client answers it within one round trip, a flooder that does
//     not read the answers (or spoofs its address) never gets further.
//   - At most MaxInProgress handshakes run at once: beyond that, new
//     connection attempts are refused (CONNECTION_REFUSED, stateless)
//     until some finish.
//
// A handshake is in progress from the moment the server takes it on until
// the HTTP/3 server accepts the connection, or the attempt fails.

// Defaults for WithHandshakeLimits.
const (
	// DefaultRetryAbove is how many handshakes may be in progress before
	// new clients must answer a Retry.
	DefaultRetryAbove = 64
	// DefaultMaxHandshakes is how many handshakes may be in progress at
	// once.
	DefaultMaxHandshakes = 512
)

// handshakeLimits are WithHandshakeLimits' values.
type handshakeLimits struct {
	retryAbove, max int
}

// WithHandshakeLimits sets when the server starts asking clients to prove
// their address with a Retry (more than retryAbove handshakes in progress;
// 0 keeps DefaultRetryAbove, a negative value asks every client) and how
// many handshakes may be in progress at once (max; 0 keeps
// DefaultMaxHandshakes, a negative value sets no limit).
func WithHandshakeLimits(retryAbove, max int) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.handshakes = handshakeLimits{retryAbove: retryAbove, max: max} })
}

// handshakeGuard counts the handshakes in progress on one server.
type handshakeGuard struct {
	retryAbove int64 // Retry when at least this many are in progress
	max        int64 // refuse when this many are; 0: no limit
	inProgress atomic.Int64
}

func newHandshakeGuard(l handshakeLimits) *handshakeGuard {
	g := &handshakeGuard{retryAbove: DefaultRetryAbove, max: DefaultMaxHandshakes}
	switch {
	case l.retryAbove < 0:
		g.retryAbove = 0
	case l.retryAbove > 0:
		g.retryAbove = int64(l.retryAbove)
	}
	switch {
	case l.max < 0:
		g.max = 0
	case l.max > 0:
		g.max = int64(l.max)
	}
	return g
}

// install makes qt ask for Retries and count handshakes; ln is the listener
// on qt to serve, which hands out connections as their handshakes end.
func (g *handshakeGuard) install(qt *quic.Transport) {
	qt.VerifySourceAddress = func(net.Addr) bool { return g.inProgress.Load() >= g.retryAbove }
	next := qt.ConnContext
	qt.ConnContext = func(ctx context.Context, info *quic.ClientInfo) (context.Context, error) {
		if n := g.inProgress.Add(1); g.max > 0 && n > g.max {
			g.inProgress.Add(-1)
			return nil, errTooManyHandshakes
		}
		h := &handshake{g: g}
		ctx = context.WithValue(ctx, handshakeKey{}, h)
		if next != nil {
			var err error
			if ctx, err = next(ctx, info); err != nil {
				h.end()
				return nil, err
			}
		}
		// The attempt may fail before the connection is accepted.
		context.AfterFunc(ctx, h.end)
		return ctx, nil
	}
}

var errTooManyHandshakes = errors.New("h3: too many handshakes in progress")

// handshake is one connection's handshake, ended once.
type handshake struct {
	g     *handshakeGuard
	ended atomic.Bool
}

type handshakeKey struct{}

func (h *handshake) end() {
	if h.ended.CompareAndSwap(false, true) {
		h.g.inProgress.Add(-1)
	}
}

// guardedListener ends a connection's handshake when the HTTP/3 server
// accepts it.
type guardedListener struct{ http3.QUICListener }

func (l guardedListener) Accept(ctx context.Context) (*quic.Conn, error) {
	conn, err := l.QUICListener.Accept(ctx)
	if err == nil {
		if h, ok := conn.Context().Value(handshakeKey{}).(*handshake); ok {
			h.end()
		}
	}
	return conn, err
}

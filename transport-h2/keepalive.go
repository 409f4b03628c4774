package h2

import (
	"errors"
	"math/rand/v2"
	"time"

	"golang.org/x/net/http2"
	"polyconnect.dev/protocol/transport"
)

// Connection lifetimes and keep-alive, as grpc-go offers them:
//
//   - Keep-alive PINGs (Config.PingInterval, on clients and servers): after
//     that much silence a PING goes out, and a connection whose PING is not
//     answered within Config.PingTimeout is closed as dead. A client pings
//     only while it has calls in flight, unless
//     Config.PermitPingsWithoutCalls.
//   - Keep-alive enforcement (Config.MinPingInterval, servers): a client
//     that sends PINGs more often than that, with nothing sent to it in
//     between, collects a strike each time; past maxPingStrikes it gets
//     GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and the connection closes.
//     On a connection without calls the interval is two hours unless
//     Config.PermitPingsWithoutCalls. PINGs that arrive after this side
//     sent headers or data are how peers measure bandwidth or check a busy
//     connection, and never count.
//   - Max connection age (Config.MaxConnectionAge, servers): past it, plus
//     up to a tenth more at random, the server says GOAWAY in two steps, as
//     Shutdown does; calls in flight may take Config.MaxConnectionAgeGrace
//     more, after which the connection is closed under them.
//   - Max connection idle is Config.IdleTimeout: a server closes (GOAWAY)
//     a connection that has carried no call for that long; PINGs do not
//     count as calls.

const (
	// DefaultMinPingInterval is the keep-alive enforcement a server applies
	// when Config.MinPingInterval is zero: clients may ping every ten
	// seconds, the most often grpc-go's clients can be set to.
	DefaultMinPingInterval = 10 * time.Second
	// idlePingInterval is the enforced interval between PINGs on a
	// connection without calls, unless PermitPingsWithoutCalls (grpc-go's
	// value).
	idlePingInterval = 2 * time.Hour
	// maxPingStrikes is how many PINGs a client may send too early before
	// it is told too_many_pings (grpc-go's value: the third strike ends
	// the connection).
	maxPingStrikes = 2
	// tooManyPings is the GOAWAY debug data that tells a client it pings
	// too often; grpc-go's clients double their interval on it, and so do
	// this package's.
	tooManyPings = "too_many_pings"
)

// keepalive is what a connection needs of Config's lifetime and keep-alive
// fields.
type keepalive struct {
	pingInterval       time.Duration // send PINGs after this much silence; 0: never
	pingTimeout        time.Duration
	minPingInterval    time.Duration // servers: enforcement; 0: off
	permitWithoutCalls bool
	maxAge             time.Duration // servers: 0: none
	maxAgeGrace        time.Duration // servers: 0: until the calls end
}

// keepaliveConfig reads cfg's keep-alive fields; interval and timeout, from
// WithKeepalive, win over the configuration when set.
func keepaliveConfig(cfg transport.Config, interval, timeout time.Duration, server bool) (keepalive, error) {
	k := keepalive{
		pingInterval:       orDefault(cfg.PingInterval, 0),
		pingTimeout:        orDefault(cfg.PingTimeout, DefaultPingTimeout),
		permitWithoutCalls: cfg.PermitPingsWithoutCalls,
	}
	if interval > 0 {
		k.pingInterval = interval
	}
	if timeout > 0 {
		k.pingTimeout = timeout
	}
	if k.pingInterval > 0 && k.pingTimeout <= 0 {
		k.pingTimeout = DefaultPingTimeout
	}
	if server {
		k.minPingInterval = orDefault(cfg.MinPingInterval, DefaultMinPingInterval)
		k.maxAge = orDefault(cfg.MaxConnectionAge, 0)
		k.maxAgeGrace = orDefault(cfg.MaxConnectionAgeGrace, 0)
		if k.maxAgeGrace > 0 && k.maxAge <= 0 {
			return k, errors.New("h2: MaxConnectionAgeGrace is set but MaxConnectionAge is not")
		}
	}
	return k, nil
}

// agedAt returns when a connection opened at start reaches maxAge, with up
// to a tenth of it added at random so that connections opened together do
// not all go at once.
func (k keepalive) agedAt(start time.Time) time.Time {
	if k.maxAge <= 0 {
		return time.Time{}
	}
	jitter := time.Duration(0)
	if tenth := int64(k.maxAge / 10); tenth > 0 {
		jitter = time.Duration(rand.Int64N(tenth))
	}
	return start.Add(k.maxAge + jitter)
}

// enforcePing applies the keep-alive policy to a PING from the peer (reader
// goroutine, servers): sent reports whether this side wrote headers or data
// since the peer's previous PING.
func (c *conn) enforcePing(now time.Time, sent bool) error {
	k := &c.limits.keepalive
	if k.minPingInterval <= 0 {
		return nil
	}
	last := c.lastPingAt
	c.lastPingAt = now
	if sent {
		c.pingStrikes = 0
		return nil
	}
	interval := k.minPingInterval
	if !k.permitWithoutCalls && !c.role.hasCalls() {
		interval = max(interval, idlePingInterval)
	}
	if !last.IsZero() && now.Sub(last) < interval {
		c.pingStrikes++
	}
	if c.pingStrikes > maxPingStrikes {
		return connError{code: http2.ErrCodeEnhanceYourCalm, reason: tooManyPings}
	}
	return nil
}

// keepaliveTick sends a keep-alive PING after pingInterval of silence, and
// closes the connection if the last one went unanswered for pingTimeout.
// It reports whether the connection is still open.
func (c *conn) keepaliveTick(now time.Time) bool {
	k := &c.limits.keepalive
	if k.pingInterval <= 0 {
		return true
	}
	if sent := c.pingSent.Load(); sent != 0 {
		if now.Sub(time.Unix(0, sent)) > k.pingTimeout {
			c.closeWithError(errPingTimeout)
			return false
		}
		return true
	}
	if now.Sub(time.Unix(0, c.lastRead.Load())) > k.pingInterval && (k.permitWithoutCalls || c.server || c.role.hasCalls()) {
		c.pingSent.Store(now.UnixNano())
		c.queueCtrl(ctrlFrame{kind: ctrlPing, data: keepalivePingData})
	}
	return true
}

var errPingTimeout = errors.New("h2: keep-alive PING not answered in time")

// errMaxAge fails the calls still in flight when a connection's max age and
// grace have passed.
var errMaxAge = errors.New("h2: the connection reached its maximum age, and the grace period for calls in flight has passed")

// ageTick retires a server connection past its max age, and closes it once
// the grace period after that has passed too.
func (sc *serverConn) ageTick(now time.Time) {
	grace := sc.srv.lim.keepalive.maxAgeGrace
	sc.mu.Lock()
	aged := !sc.agedAt.IsZero() && sc.graceEnds.IsZero() && !now.Before(sc.agedAt)
	if aged {
		sc.graceEnds = now.Add(grace)
		if grace <= 0 {
			sc.agedAt = time.Time{} // no grace: the calls in flight end when they end
		}
	}
	cut := !aged && !sc.agedAt.IsZero() && !sc.graceEnds.IsZero() && now.After(sc.graceEnds)
	if cut {
		sc.agedAt = time.Time{}
	}
	sc.mu.Unlock()
	switch {
	case aged:
		sc.shutdown()
	case cut:
		sc.c.goAwayAndClose(http2.ErrCodeNo, "max connection age", errMaxAge)
	}
}

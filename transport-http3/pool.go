package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// pool keeps track of a client's QUIC connections and of the calls on
// them. http3.Transport caches one connection per host but counts a call
// as done when its response headers arrive, so it would close a
// connection under a running stream; pool counts calls until their
// response body is closed, closes connections that stay idle for the idle
// timeout or on CloseIdleConnections, and owns the UDP socket.
type pool struct {
	preset      net.PacketConn // from WithClientPacketConn
	dialTimeout time.Duration
	idleTimeout time.Duration

	mu     sync.Mutex
	closed bool
	conn   net.PacketConn   // nil until the first dial, and after closeIdle
	qt     *quic.Transport  // on conn
	hosts  map[string]*host // by authority, "host:port"
}

// host is what the pool knows of one server.
type host struct {
	active int                 // calls whose response body is open
	conns  map[*quic.Conn]bool // connections dialled and not yet closed
	timer  *time.Timer         // closes the connections once idle
	gen    uint64              // bumped by acquire, so a stale timer does nothing
}

func newPool(preset net.PacketConn, dialTimeout, idleTimeout time.Duration) *pool {
	return &pool{
		preset:      preset,
		dialTimeout: dialTimeout,
		idleTimeout: idleTimeout,
		hosts:       make(map[string]*host),
	}
}

func (p *pool) hostLocked(key string) *host {
	h := p.hosts[key]
	if h == nil {
		h = &host{conns: make(map[*quic.Conn]bool)}
		p.hosts[key] = h
	}
	return h
}

// acquire counts a call to key; it reports false once the pool is closed.
func (p *pool) acquire(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	h := p.hostLocked(key)
	h.active++
	h.gen++
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
	return true
}

// release ends a call to key, and starts the idle timer when it was the
// last one.
func (p *pool) release(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hosts[key]
	if h == nil {
		return
	}
	h.active--
	if h.active > 0 || p.closed || p.idleTimeout <= 0 {
		return
	}
	gen := h.gen
	h.timer = time.AfterFunc(p.idleTimeout, func() { p.expire(key, gen) })
}

// expire closes the connections to key if no call came since the timer
// was set.
func (p *pool) expire(key string, gen uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hosts[key]
	if h == nil || h.gen != gen || h.active > 0 {
		return
	}
	p.dropLocked(key, h)
}

// dropLocked closes the connections to an idle host and forgets it.
func (p *pool) dropLocked(key string, h *host) {
	if h.timer != nil {
		h.timer.Stop()
	}
	for c := range h.conns {
		_ = c.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "")
	}
	delete(p.hosts, key)
}

// closeIdle closes the connections of every host without calls, and the
// socket once nothing uses it.
func (p *pool) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, h := range p.hosts {
		if h.active == 0 {
			p.dropLocked(key, h)
		}
	}
	if len(p.hosts) == 0 {
		p.closeSocketLocked()
	}
}

// close closes every connection and the socket; dial fails afterwards.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for key, h := range p.hosts {
		p.dropLocked(key, h)
	}
	p.closeSocketLocked()
	if p.preset != nil {
		_ = p.preset.Close()
	}
}

func (p *pool) closeSocketLocked() {
	if p.qt == nil {
		return
	}
	_ = p.qt.Close()
	if p.conn != p.preset {
		_ = p.conn.Close()
	}
	p.qt, p.conn = nil, nil
}

// transport returns the QUIC transport to dial on, opening the UDP socket
// on first use.
func (p *pool) transport() (*quic.Transport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errClientClosed
	}
	if p.qt != nil {
		return p.qt, nil
	}
	conn := p.preset
	if conn == nil {
		udp, err := net.ListenUDP("udp", nil)
		if err != nil {
			return nil, err
		}
		conn = udp
	}
	p.conn = conn
	p.qt = &quic.Transport{Conn: conn}
	return p.qt, nil
}

// dial is the http3.Transport's Dial: it opens a QUIC connection to addr
// ("host:port") within the dial timeout and records it for the pool.
func (p *pool) dial(ctx context.Context, addr string, tlsConf *tls.Config, conf *quic.Config) (*quic.Conn, error) {
	if p.dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.dialTimeout)
		defer cancel()
	}
	udpAddr, err := resolve(ctx, addr)
	if err != nil {
		return nil, &dialError{addr: addr, err: err}
	}
	qt, err := p.transport()
	if err != nil {
		return nil, err
	}
	// Dial, not DialEarly: the client sends no 0-RTT data, and a
	// connection is handed over with its handshake complete.
	ctx, refused := context.WithCancelCause(ctx)
	defer refused(nil)
	stopProbe := probeRefused(udpAddr, refused)
	conn, err := qt.Dial(ctx, udpAddr, tlsConf, conf)
	stopProbe()
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errNothingListening) {
			err = cause
		}
		return nil, &dialError{addr: addr, err: err}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hostLocked(addr)
	if p.closed {
		_ = conn.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "")
		return nil, errClientClosed
	}
	h.conns[conn] = true
	context.AfterFunc(conn.Context(), func() { p.forget(addr, conn) })
	return conn, nil
}

// forget drops a connection that closed, by either side.
func (p *pool) forget(key string, conn *quic.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h := p.hosts[key]; h != nil {
		delete(h.conns, conn)
	}
}

// resolve looks addr up, preferring IPv4 as net.Dial does for "udp".
func resolve(ctx context.Context, addr string) (*net.UDPAddr, error) {
	hostname, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	portNum, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return nil, err
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", hostname)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, errors.New("no address for " + hostname)
	}
	ip := ips[0]
	for _, cand := range ips {
		if cand.Is4() || cand.Is4In6() {
			ip = cand
			break
		}
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip.Unmap(), uint16(portNum))), nil
}

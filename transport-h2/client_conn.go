package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"polyconnect.dev/protocol/transport"
)

// clientConn is the client side of one connection.
type clientConn struct {
	client   *Client
	pool     *hostPool
	addr     string // host:port dialled
	c        *conn
	tlsState *tls.ConnectionState

	// Set when the connection ended before the server's first SETTINGS
	// frame: see diagnose.go.
	prefaceErr atomic.Pointer[prefaceError]

	// Stream slots: read and reserved without c.mu, so the pool never takes
	// a connection's lock.
	active     atomic.Int32  // streams reserved or open
	maxStreams atomic.Uint32 // the server's SETTINGS_MAX_CONCURRENT_STREAMS
	retired    atomic.Bool   // takes no new streams
	idleSince  atomic.Int64  // unix nanoseconds active last dropped to 0

	// Guarded by c.mu.
	nextID      uint32
	gotGoAway   bool
	goAwayID    uint32
	goAwayCode  http2.ErrCode
	goAwayDebug string

	// The reader goroutine's: responses to hand to their callers once the
	// frames already buffered are read, so that a caller wakes once to
	// find its response's headers, data and trailers.
	toDeliver []*clientStream
}

func (cc *clientConn) flushDeferred() {
	for i, cs := range cc.toDeliver {
		cs.deliver()
		cc.toDeliver[i] = nil
	}
	cc.toDeliver = cc.toDeliver[:0]
}

// provisionalMaxStreams is how many streams a client opens on a new
// connection before the server's SETTINGS say how many it allows.
const provisionalMaxStreams = 100

// maxClientStreamID is the largest stream ID a client may use.
const maxClientStreamID = 1<<31 - 1

// newClientConn dials addr, runs the TLS handshake for h2-rpc, and starts
// the connection: the preface and SETTINGS go out with the first batch.
func (c *Client) newClientConn(addr string, p *hostPool) (*clientConn, error) {
	nc, err := c.dial(context.Background(), "tcp", addr)
	if err != nil {
		return nil, &transport.DialError{Addr: addr, Err: err}
	}
	cc := &clientConn{client: c, pool: p, addr: addr, nextID: 1}
	if c.tls != nil {
		conf := c.tls.Clone()
		if conf.ServerName == "" {
			host, _, _ := net.SplitHostPort(addr)
			conf.ServerName = host
		}
		tc := tls.Client(nc, conf)
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if c.tlsTimeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, c.tlsTimeout)
		}
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			_ = nc.Close()
			return nil, c.tlsFailure(err, addr)
		}
		st := tc.ConnectionState()
		if st.NegotiatedProtocol != "h2" {
			_ = tc.Close()
			return nil, &transport.TLSError{Addr: addr, Err: fmt.Errorf("h2: the server did not negotiate HTTP/2 with ALPN (got %q)", st.NegotiatedProtocol),
				Hint: noHTTP2OverTLS}
		}
		cc.tlsState = &st
		nc = tc
	}
	cc.maxStreams.Store(provisionalMaxStreams)
	cc.idleSince.Store(time.Now().UnixNano())
	lim := c.lim
	lim.keepalive.pingInterval = time.Duration(c.pingInterval.Load())
	cc.c = newConn(nc, cc, false, lim, logPrintf)
	cc.c.bw.buf = append(cc.c.bw.buf, http2.ClientPreface...)
	cc.c.start(cc.c.localSettings())
	go cc.c.run()
	return cc, nil
}

// tryReserve takes a stream slot if the connection has one.
func (cc *clientConn) tryReserve() bool {
	for {
		if cc.retired.Load() {
			return false
		}
		n := cc.active.Load()
		if uint32(n) >= cc.maxStreams.Load() {
			return false
		}
		if cc.active.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release gives a stream slot back.
func (cc *clientConn) release() {
	if cc.active.Add(-1) > 0 {
		cc.client.slotFreed(cc.pool)
		return
	}
	cc.idleSince.Store(time.Now().UnixNano())
	cc.client.slotFreed(cc.pool)
	if cc.retired.Load() {
		go cc.closeIdle()
		return
	}
	if cc.client.overIdleLimit() && cc.client.tooManyIdle(cc) {
		cc.client.mu.Lock()
		retire := cc.retireIfIdleLocked()
		cc.client.mu.Unlock()
		if retire {
			go cc.closeIdle()
		}
	}
}

// retireIfIdleLocked takes the connection out of its pool if it carries no
// stream; the caller holds the client's lock and then calls closeIdle.
func (cc *clientConn) retireIfIdleLocked() bool {
	if cc.active.Load() != 0 {
		return false
	}
	cc.retired.Store(true)
	p := cc.pool
	for i, x := range p.conns {
		if x == cc {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			cc.client.nconns.Add(-1)
			break
		}
	}
	cc.client.dropPoolIfEmptyLocked(p)
	return true
}

// closeIdle closes a retired connection politely.
func (cc *clientConn) closeIdle() {
	cc.c.goAwayAndClose(http2.ErrCodeNo, "", errIdleClosed)
}

var errIdleClosed = errors.New("h2: idle connection closed")

func (cc *clientConn) idle(id uint32) bool {
	if id%2 == 0 {
		return true
	}
	cc.c.mu.Lock()
	defer cc.c.mu.Unlock()
	return id >= cc.nextID
}

func (cc *clientConn) lastStreamID() uint32 { return 0 }

func (cc *clientConn) onPingAck([8]byte) bool { return false }

func (cc *clientConn) settingsChangedLocked() {
	n := cc.c.peer.maxConcurrent
	cc.maxStreams.Store(n)
	cc.client.slotFreed(cc.pool)
}

func (cc *clientConn) sentEnd(s *stream) {
	if s.recvDone {
		cc.c.removeLocked(s)
	}
}

func (cc *clientConn) streamClosedLocked(s *stream) {
	cc.release()
}

func (cc *clientConn) connClosed(err error, streams []*stream) {
	cc.retired.Store(true)
	cc.client.removeConn(cc)
	c := cc.c
	c.mu.Lock()
	beforeSettings := !c.peer.gotSettings
	c.mu.Unlock()
	if beforeSettings {
		// The server never spoke HTTP/2 here: Client.Do finds out why.
		pe := &prefaceError{err: err}
		cc.prefaceErr.Store(pe)
		err = pe
	}
	for _, s := range streams {
		c.mu.Lock()
		unsent := !s.hdrWritten
		c.mu.Unlock()
		e := err
		if unsent {
			e = retryError{err: err, bodyUnread: !s.cli.bodyTouched.Load()}
		}
		s.cli.fail(e)
	}
}

func (cc *clientConn) tick(now time.Time) {
	d := cc.client.idleTimeout
	if d <= 0 || cc.active.Load() != 0 || now.Sub(time.Unix(0, cc.idleSince.Load())) <= d {
		return
	}
	cc.client.mu.Lock()
	retire := !cc.retired.Load() && cc.retireIfIdleLocked()
	cc.client.mu.Unlock()
	if retire {
		cc.closeIdle()
	}
}

func (cc *clientConn) hasCalls() bool { return cc.active.Load() > 0 }

func (cc *clientConn) onGoAway(f *http2.GoAwayFrame) {
	c := cc.c
	if f.ErrCode == http2.ErrCodeEnhanceYourCalm && string(f.DebugData()) == tooManyPings {
		// The server wants fewer keep-alive PINGs: new connections send
		// half as many, as grpc-go's clients do.
		cc.client.backOffPings(c.limits.keepalive.pingInterval)
	}
	cc.retired.Store(true)
	cc.client.removeConn(cc)
	c.mu.Lock()
	cc.gotGoAway = true
	cc.goAwayID = f.LastStreamID
	cc.goAwayCode = f.ErrCode
	cc.goAwayDebug = string(f.DebugData())
	var above []*stream
	for id, s := range c.streams {
		if id > f.LastStreamID {
			above = append(above, s)
		}
	}
	c.mu.Unlock()
	err := goAwayError{code: f.ErrCode, debug: string(f.DebugData())}
	for _, s := range above {
		// The server did not and will not process these: they may be
		// sent again elsewhere.
		c.mu.Lock()
		s.recvDone = true
		s.failSendLocked(err)
		c.removeLocked(s)
		c.mu.Unlock()
		s.recv.fail(err)
		s.cli.fail(retryError{err: err, bodyUnread: !s.cli.bodyTouched.Load()})
	}
	if cc.active.Load() == 0 {
		cc.closeIdle()
	}
}

// goAwayReceived returns the code and debug data of the GOAWAY the server
// sent, if it sent one.
func (cc *clientConn) goAwayReceived() (http2.ErrCode, string, bool) {
	cc.c.mu.Lock()
	defer cc.c.mu.Unlock()
	return cc.goAwayCode, cc.goAwayDebug, cc.gotGoAway
}

func (cc *clientConn) onRSTStream(f *http2.RSTStreamFrame) error {
	c := cc.c
	c.mu.Lock()
	s := c.streams[f.StreamID]
	if s == nil {
		c.mu.Unlock()
		return nil
	}
	cs := s.cli
	s.recvDone = true
	var err error = peerReset{code: f.ErrCode}
	s.failSendLocked(err)
	c.removeLocked(s)
	c.mu.Unlock()
	s.recv.fail(err)
	if cs.gotResp {
		// The response headers came in this burst and wait in toDeliver:
		// the response stands (a server may reset with NO_ERROR after a
		// complete response to stop the request body), and its body ends
		// as recv says.
		cs.deliver()
		return nil
	}
	if f.ErrCode == http2.ErrCodeRefusedStream {
		err = retryError{err: err, bodyUnread: !cs.bodyTouched.Load()}
	}
	cs.fail(err)
	return nil
}

func (cc *clientConn) onData(id uint32, data []byte, frameLen int, end bool) error {
	c := cc.c
	c.mu.Lock()
	s := c.streams[id]
	if s == nil {
		c.mu.Unlock()
		if cc.idle(id) {
			return connError{code: http2.ErrCodeProtocol, reason: "DATA on an idle stream"}
		}
		return nil // a stream we reset
	}
	recvDone := s.recvDone
	c.mu.Unlock()
	cs := s.cli
	if !cs.gotResp {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "DATA before the response headers"}
	}
	if cs.req.Method == http.MethodHead && len(data) > 0 {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "DATA in a response to HEAD"}
	}
	if recvDone {
		return streamError{id: id, code: http2.ErrCodeStreamClosed, reason: "DATA after the end of the response"}
	}
	cs.received += int64(len(data))
	if cs.resp.ContentLength >= 0 && cs.req.Method != http.MethodHead && (cs.received > cs.resp.ContentLength || end && cs.received != cs.resp.ContentLength) {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "response body does not match its content-length"}
	}
	inc, err := s.recv.push(data, frameLen, end)
	if err != nil {
		return err
	}
	if inc > 0 {
		c.queueCtrl(ctrlFrame{kind: ctrlWindowUpdate, streamID: id, n: inc})
	}
	if end {
		s.peerEnded()
	}
	return nil
}

func (cc *clientConn) onHeaders(hb *headerBlock) error {
	c := cc.c
	id := hb.streamID
	c.mu.Lock()
	s := c.streams[id]
	var recvDone bool
	if s != nil {
		recvDone = s.recvDone
	}
	c.mu.Unlock()
	if s == nil {
		if cc.idle(id) {
			return connError{code: http2.ErrCodeProtocol, reason: "HEADERS on an idle stream"}
		}
		return nil
	}
	if recvDone {
		return streamError{id: id, code: http2.ErrCodeStreamClosed, reason: "HEADERS after the end of the response"}
	}
	cs := s.cli
	if !cs.gotResp {
		return cs.onResponseHeaders(hb)
	}
	return cs.onTrailers(hb)
}

// logPrintf is where client connections report what they cannot return.
func logPrintf(string, ...any) {}

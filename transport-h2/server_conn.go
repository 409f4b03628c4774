package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// serverConn is the server side of one connection.
type serverConn struct {
	srv        *Server
	rawConn    net.Conn      // as accepted
	done       chan struct{} // closed when serve returns
	mu         sync.Mutex    // guards c, stopping, draining, agedAt and graceEnds
	c          *conn         // set once the handshake is done
	stopping   bool          // Close came before the handshake ended
	draining   bool          // Shutdown came before the handshake ended
	agedAt     time.Time     // when the connection reaches its max age (keepalive.go)
	graceEnds  time.Time     // when calls in flight past the max age are cut
	baseCtx    context.Context
	tlsState   *tls.ConnectionState
	remoteAddr string

	// Guarded by c.mu.
	maxClientID  uint32          // the highest stream ID the client opened
	open         uint32          // streams counting against MAX_CONCURRENT_STREAMS
	handlers     uint32          // handlers running
	queue        []*serverStream // streams waiting for a handler slot
	recent       [64]uint32      // recently closed stream IDs (ring)
	recentReset  [64]resetStream // streams recently reset by us (ring)
	recentN      int
	recentResetN int
	idleSince    time.Time
	shuttingDown bool   // the first GOAWAY is queued
	finalGoAway  bool   // the second GOAWAY is queued
	goAwayID     uint32 // the last stream ID of the second GOAWAY
	closing      bool   // closing once everything is written
	shutdownTmr  *time.Timer
	headerBytes  int64 // the request headers of streams that hold them

	// The reader goroutine's: handlers to start once the frames already
	// buffered are read, so that a request's DATA is there when its
	// handler starts reading.
	toStart []*serverStream
}

func (sc *serverConn) flushDeferred() {
	for i, st := range sc.toStart {
		sc.srv.workers.run(st)
		sc.toStart[i] = nil
	}
	sc.toStart = sc.toStart[:0]
}

// resetStream is a stream this side reset, and how much DATA the client
// may still have in flight on it: what its window allowed when it was
// reset. DATA within that is dropped quietly; more is a stream error.
type resetStream struct {
	id     uint32
	window int64
}

// noteResetLocked records a stream reset by us (c.mu held).
func (sc *serverConn) noteResetLocked(id uint32, window int64) {
	sc.recentReset[sc.recentResetN%len(sc.recentReset)] = resetStream{id: id, window: window}
	sc.recentResetN++
}

// shutdownPingData marks the PING of the first GOAWAY.
var shutdownPingData = [8]byte{'s', 'h', 'u', 't', 0, 0, 0, 3}

func (s *Server) newServerConn(nc net.Conn) *serverConn {
	sc := &serverConn{srv: s, rawConn: nc, done: make(chan struct{}), remoteAddr: nc.RemoteAddr().String(), idleSince: time.Now()}
	if !s.track(sc, true) {
		return nil
	}
	return sc
}

// serve runs the connection: handshake, then the reader loop on this
// goroutine.
func (sc *serverConn) serve() {
	s := sc.srv
	defer close(sc.done)
	defer s.track(sc, false)
	nc, state, err := s.handshake(sc.rawConn)
	if err != nil {
		closeGently(sc.rawConn)
		return
	}
	if nc == nil {
		return // handed to the HTTP/1.x side (one-port mode)
	}
	sc.tlsState = state
	sc.baseCtx = context.WithValue(context.Background(), http.LocalAddrContextKey, nc.LocalAddr())
	c := newConn(nc, sc, true, s.lim, s.logf)
	sc.mu.Lock()
	if sc.stopping {
		// The server stopped during the handshake.
		sc.mu.Unlock()
		_ = nc.Close()
		return
	}
	sc.c = c
	sc.agedAt = s.lim.keepalive.agedAt(time.Now())
	draining := sc.draining
	sc.mu.Unlock()
	c.start(c.localSettings())
	if draining {
		sc.shutdown()
	}
	c.run()
	<-c.closed
}

// getConn returns the connection once the handshake is done, or nil.
// A connection still in its handshake is closed if stop is set, else it
// will shut down gracefully once the handshake is done (the client may
// have sent requests already).
func (sc *serverConn) getConn(stop bool) *conn {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.c == nil {
		if stop {
			sc.stopping = true
			_ = sc.rawConn.Close()
		} else {
			sc.draining = true
		}
	}
	return sc.c
}

// getConnNoStop returns the connection once the handshake is done, or nil.
func (sc *serverConn) getConnNoStop() *conn {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.c
}

// shutdown starts the graceful two-step GOAWAY.
func (sc *serverConn) shutdown() {
	c := sc.getConn(false)
	if c == nil {
		return
	}
	c.mu.Lock()
	if sc.shuttingDown || c.closeErr != nil {
		c.mu.Unlock()
		return
	}
	sc.shuttingDown = true
	wake := c.queueCtrlLocked(ctrlFrame{kind: ctrlGoAway, n: 1<<31 - 1, code: http2.ErrCodeNo})
	c.queueCtrlLocked(ctrlFrame{kind: ctrlPing, data: shutdownPingData})
	// Should the PING not come back, go on after a second.
	sc.shutdownTmr = time.AfterFunc(time.Second, sc.sendFinalGoAway)
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
}

// close closes the connection at once.
func (sc *serverConn) close() {
	if c := sc.getConn(true); c != nil {
		c.closeWithError(errServerClosing)
	}
}

// sendFinalGoAway queues the second GOAWAY, with the last stream ID the
// server will process.
func (sc *serverConn) sendFinalGoAway() {
	c := sc.c
	c.mu.Lock()
	if sc.finalGoAway {
		c.mu.Unlock()
		return
	}
	sc.finalGoAway = true
	sc.goAwayID = sc.maxClientID
	wake := c.queueCtrlLocked(ctrlFrame{kind: ctrlGoAway, n: sc.goAwayID, code: http2.ErrCodeNo})
	if sc.maybeCloseLocked() {
		wake = c.signalWriterLocked() || wake
	}
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
}

// maybeCloseLocked closes a connection that is shutting down, or idle past
// its timeout, once no stream is left: after the queued frames are written.
func (sc *serverConn) maybeCloseLocked() bool {
	c := sc.c
	if sc.open > 0 || sc.handlers > 0 || sc.closing {
		return false
	}
	if !sc.finalGoAway {
		return false
	}
	sc.closing = true
	c.lingerAfterFlush = true
	return true
}

func (sc *serverConn) onPingAck(data [8]byte) bool {
	if data == shutdownPingData {
		sc.sendFinalGoAway()
		return true
	}
	return false
}

func (sc *serverConn) onGoAway(f *http2.GoAwayFrame) {
	// The client opens no more streams; those in flight finish, and the
	// connection closes when the client closes it.
}

// idle reports whether id names a stream that was never opened: an even
// ID (servers open no streams) or one above the highest the client opened.
func (sc *serverConn) idle(id uint32) bool {
	c := sc.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return id%2 == 0 || id > sc.maxClientID
}

// lastStreamID is called with c.mu held.
func (sc *serverConn) lastStreamID() uint32 {
	return sc.maxClientID
}

func (sc *serverConn) settingsChangedLocked() {}

func (sc *serverConn) sentEnd(s *stream) {
	st := s.srv
	if s.recvDone {
		sc.c.removeLocked(s)
		return
	}
	if st != nil && st.rstAfterEnd {
		// The response is complete and the handler is done with the
		// request: tell the client to stop sending it.
		sc.c.queueCtrlLocked(ctrlFrame{kind: ctrlRSTStream, streamID: s.id, code: http2.ErrCodeNo})
		s.resetByUs = true
		s.recvDone = true
		sc.c.removeLocked(s)
		s.recv.closeLocked(errBodyAfterResponse)
	}
}

func (sc *serverConn) streamClosedLocked(s *stream) {
	sc.open--
	sc.recent[sc.recentN%len(sc.recent)] = s.id
	sc.recentN++
	if s.resetByUs {
		s.recv.mu.Lock()
		window := max(s.recv.avail, 0)
		s.recv.mu.Unlock()
		sc.noteResetLocked(s.id, window)
	}
	if sc.open == 0 && sc.handlers == 0 {
		sc.idleSince = time.Now()
	}
	if sc.maybeCloseLocked() && sc.c.signalWriterLocked() {
		go sc.c.wakeWriter()
	}
}

// recentlyClosed reports whether id is among the streams closed lately,
// and whether we reset it.
func (sc *serverConn) recentlyClosedLocked(id uint32) (closed, resetByUs bool) {
	if sc.resetLocked(id) != nil {
		return true, true
	}
	for _, r := range sc.recent {
		if r == id {
			return true, false
		}
	}
	return false, false
}

// resetLocked returns the record of a stream we reset lately, or nil.
func (sc *serverConn) resetLocked(id uint32) *resetStream {
	for i := range sc.recentReset {
		if r := &sc.recentReset[i]; r.id == id {
			return r
		}
	}
	return nil
}

func (sc *serverConn) connClosed(err error, streams []*stream) {
	c := sc.c
	c.mu.Lock()
	queue := sc.queue
	sc.queue = nil
	if sc.shutdownTmr != nil {
		sc.shutdownTmr.Stop()
	}
	c.mu.Unlock()
	for _, s := range streams {
		if st := s.srv; st != nil {
			st.ctx.cancel(context.Canceled)
		}
	}
	for _, st := range queue {
		st.ctx.cancel(context.Canceled)
	}
}

func (sc *serverConn) hasCalls() bool {
	c := sc.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return sc.open > 0
}

func (sc *serverConn) tick(now time.Time) {
	sc.ageTick(now)
	idle := sc.srv.idle
	if idle <= 0 {
		return
	}
	c := sc.c
	c.mu.Lock()
	expired := sc.open == 0 && sc.handlers == 0 && !sc.shuttingDown && now.Sub(sc.idleSince) > idle
	if expired {
		sc.shuttingDown = true
	}
	c.mu.Unlock()
	if expired {
		// Nothing in flight: one GOAWAY is enough.
		sc.sendFinalGoAway()
	}
}

func (sc *serverConn) onRSTStream(f *http2.RSTStreamFrame) error {
	c := sc.c
	c.mu.Lock()
	s := c.streams[f.StreamID]
	if s == nil {
		c.mu.Unlock()
		return nil // closed: ignore
	}
	s.recvDone = true
	s.failSendLocked(peerReset{code: f.ErrCode})
	c.removeLocked(s)
	c.mu.Unlock()
	s.recv.fail(peerReset{code: f.ErrCode})
	s.srv.ctx.cancel(context.Canceled)
	return nil
}

func (sc *serverConn) onData(id uint32, data []byte, frameLen int, end bool) error {
	c := sc.c
	c.mu.Lock()
	s := c.streams[id]
	if s == nil {
		idle := id%2 == 0 || id > sc.maxClientID
		inFlight := false
		if r := sc.resetLocked(id); r != nil && !idle {
			// In flight when we reset the stream, as far as its window
			// allowed: dropped. The connection window goes back all
			// the same.
			r.window -= int64(frameLen)
			inFlight = r.window >= 0
		}
		c.mu.Unlock()
		if idle {
			return connError{code: http2.ErrCodeProtocol, reason: "DATA on an idle stream"}
		}
		if inFlight {
			return nil
		}
		return streamError{id: id, code: http2.ErrCodeStreamClosed, reason: "DATA on a closed stream"}
	}
	recvDone := s.recvDone
	c.mu.Unlock()
	if recvDone {
		return streamError{id: id, code: http2.ErrCodeStreamClosed, reason: "DATA after the end of the request"}
	}
	st := s.srv
	st.received += int64(len(data))
	if st.contentLength >= 0 && (st.received > st.contentLength || end && st.received != st.contentLength) {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "request body does not match its content-length"}
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

func (sc *serverConn) onHeaders(hb *headerBlock) error {
	c := sc.c
	id := hb.streamID
	if id%2 == 0 {
		return connError{code: http2.ErrCodeProtocol, reason: "client stream with an even ID"}
	}
	c.mu.Lock()
	s := c.streams[id]
	if s != nil {
		recvDone := s.recvDone
		c.mu.Unlock()
		if recvDone {
			return streamError{id: id, code: http2.ErrCodeStreamClosed, reason: "HEADERS after the end of the request"}
		}
		return sc.onTrailers(s.srv, hb)
	}
	if id <= sc.maxClientID {
		closed, _ := sc.recentlyClosedLocked(id)
		c.mu.Unlock()
		if closed {
			return connError{code: http2.ErrCodeStreamClosed, reason: "HEADERS on a closed stream"}
		}
		return connError{code: http2.ErrCodeProtocol, reason: "stream ID lower than one already opened"}
	}
	sc.maxClientID = id
	refuse := sc.finalGoAway || sc.open >= c.limits.maxConcurrent || c.lingerAfterFlush || c.closeErr != nil
	if refuse {
		sc.recent[sc.recentN%len(sc.recent)] = id
		sc.recentN++
		sc.noteResetLocked(id, int64(c.limits.streamWindow))
		c.mu.Unlock()
		if err := c.answer("refused stream"); err != nil {
			return err
		}
		c.queueCtrl(ctrlFrame{kind: ctrlRSTStream, streamID: id, code: http2.ErrCodeRefusedStream})
		return nil
	}
	c.mu.Unlock()

	st, status, err := sc.newStream(hb)
	if err != nil {
		// A malformed request: the stream counts as opened and closed.
		c.mu.Lock()
		sc.recent[sc.recentN%len(sc.recent)] = id
		sc.recentN++
		c.mu.Unlock()
		return err
	}
	c.mu.Lock()
	if status == 0 && sc.headerBytes+int64(hb.size) > sc.srv.headerBudget {
		// The headers of the requests in flight would take more memory
		// than the connection may hold.
		status = http.StatusRequestHeaderFieldsTooLarge
	}
	if status != 0 {
		c.mu.Unlock()
		if err := c.answer("refused request"); err != nil {
			return err
		}
		sc.answerWithoutHandler(st, status)
		return nil
	}
	if c.closeErr != nil {
		c.mu.Unlock()
		return nil
	}
	st.headerSize = int64(hb.size)
	sc.headerBytes += st.headerSize
	c.streams[id] = &st.stream
	sc.open++
	start := false
	if sc.handlers < c.limits.maxConcurrent {
		sc.handlers++
		start = true
	} else {
		// Streams the client reset still have handlers running. Queue
		// this one; a client that keeps resetting and opening streams
		// faster than handlers end is attacking (rapid reset).
		if len(sc.queue) >= 4*int(c.limits.maxConcurrent) {
			c.mu.Unlock()
			return connError{code: http2.ErrCodeEnhanceYourCalm, reason: "too many streams reset while their handlers run"}
		}
		sc.queue = append(sc.queue, st)
	}
	if hb.endStream {
		st.stream.recvDone = true
	}
	c.mu.Unlock()
	c.useful()
	if start {
		sc.toStart = append(sc.toStart, st)
	}
	return nil
}

// answerWithoutHandler answers a request the server refuses before any
// handler sees it, such as one whose headers are too large.
func (sc *serverConn) answerWithoutHandler(st *serverStream, status int) {
	c := sc.c
	c.mu.Lock()
	c.streams[st.id] = &st.stream
	sc.open++
	if st.endOnHeaders {
		st.stream.recvDone = true
	}
	st.rstAfterEnd = true
	c.mu.Unlock()
	fl := getFieldList()
	fl.add(":status", statusText(status))
	fl.add("content-length", "0")
	_ = st.stream.sendHeaders(fl, true)
}

// onTrailers handles the request trailers: a header block that must end
// the stream and carry no pseudo-header.
func (sc *serverConn) onTrailers(st *serverStream, hb *headerBlock) error {
	id := hb.streamID
	if !hb.endStream {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "second HEADERS without END_STREAM"}
	}
	if hb.tooLarge {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "trailers too large"}
	}
	for _, f := range hb.fields {
		if f.IsPseudo() || !checkRegularField(f) {
			return streamError{id: id, code: http2.ErrCodeProtocol, reason: "malformed trailer field"}
		}
	}
	if st.contentLength >= 0 && st.received != st.contentLength {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "request body does not match its content-length"}
	}
	st.stream.recv.endWithTrailers(sc.c.buildHeader(hb.fields))
	st.stream.peerEnded()
	return nil
}

// runHandler runs the handler for st, then any stream queued behind it.
func (sc *serverConn) runHandler(st *serverStream) {
	for st != nil {
		st.serve()
		st = sc.handlerDone(st)
	}
}

// handlerDone frees the handler slot done held, and its request headers,
// and returns the next queued stream to serve on it, if any.
func (sc *serverConn) handlerDone(done *serverStream) *serverStream {
	c := sc.c
	c.mu.Lock()
	defer c.mu.Unlock()
	sc.headerBytes -= done.headerSize
	for len(sc.queue) > 0 {
		next := sc.queue[0]
		sc.queue[0] = nil
		sc.queue = sc.queue[1:]
		if !next.stream.removed {
			return next
		}
		// Reset while it waited: it never runs.
		sc.headerBytes -= next.headerSize
	}
	sc.handlers--
	if sc.open == 0 && sc.handlers == 0 {
		sc.idleSince = time.Now()
		if sc.maybeCloseLocked() && c.signalWriterLocked() {
			go c.wakeWriter()
		}
	}
	return nil
}

// errBodyAfterResponse is what reading a request body returns after the
// response has ended and the server told the client to stop sending it.
var errBodyAfterResponse = errors.New("h2: request body read after the response ended")

// closeGently closes a connection that failed its handshake: it closes the
// write side first and drops what the client still sends for a moment,
// since closing a socket with unread data resets the connection and the
// client could lose what the server wrote.
func closeGently(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = nc.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = io.Copy(io.Discard, io.LimitReader(nc, 64<<10))
	}
	_ = nc.Close()
}

package h2

import (
	"context"
	"errors"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// stream is the part of an HTTP/2 stream that servers and clients share:
// what it has queued to send, guarded by conn.mu, and what it has received,
// in recv.
type stream struct {
	id uint32
	c  *conn

	// The send side, guarded by c.mu.
	hdr          *fieldList // header block to write next
	hdrEnd       bool       // hdr ends the stream
	hdrWritten   bool       // the stream's first HEADERS are written
	data         []byte     // queued DATA bytes, owned
	dataOff      int        // how much of data is written
	borrowed     []byte     // a waiting writer's bytes, written after data
	lent         int        // bytes of borrowed a batch in flight still refers to
	trailers     *fieldList // trailers to write after the data
	endAfterData bool       // end the stream once the data is written
	sendWindow   int64      // the peer's window for this stream
	inReady      bool       // in c.ready
	connBlocked  bool       // in c.connBlocked
	sendDone     bool       // END_STREAM or RST_STREAM is written, or the stream failed
	sendErr      error      // why writes fail, once they do
	recvDone     bool       // the peer ended its side (END_STREAM or RST_STREAM)
	removed      bool       // no longer in c.streams
	resetByUs    bool
	blockedSince time.Time // since when data waits for window
	space        sync.Cond // L is c.mu: signalled as queued bytes are written
	waiters      int       // goroutines waiting on space
	wdeadline    time.Time
	wtimer       *time.Timer

	recv recvBuffer

	srv *serverStream // the server's view, on servers
	cli *clientStream // the client's view, on clients
}

func (s *stream) init(c *conn, id uint32) {
	s.c = c
	s.id = id
	s.space.L = &c.mu
	s.recv.s = s
	s.recv.cond.L = &s.recv.mu
}

// pendingLocked returns the next bytes to write.
func (s *stream) pendingLocked() []byte {
	if s.dataOff < len(s.data) {
		return s.data[s.dataOff:]
	}
	return s.borrowed
}

// queuedLocked returns how many bytes wait to be written.
func (s *stream) queuedLocked() int {
	return len(s.data) - s.dataOff + len(s.borrowed)
}

// consumeLocked records that n bytes of pendingLocked are in the batch.
func (s *stream) consumeLocked(n int) {
	if s.dataOff < len(s.data) {
		s.dataOff += n
		if s.dataOff == len(s.data) {
			s.data, s.dataOff = s.data[:0], 0
		}
	} else {
		s.borrowed = s.borrowed[n:]
		if len(s.borrowed) == 0 {
			s.borrowed = nil
		}
	}
	if s.waiters > 0 {
		s.space.Broadcast()
	}
}

// releaseSendLocked drops everything queued.
func (s *stream) releaseSendLocked() {
	if s.data != nil {
		putBuf(s.data)
		s.data, s.dataOff = nil, 0
	}
	s.borrowed = nil
	if s.hdr != nil {
		putFieldList(s.hdr)
		s.hdr = nil
	}
	if s.trailers != nil {
		putFieldList(s.trailers)
		s.trailers = nil
	}
	if s.wtimer != nil {
		s.wtimer.Stop()
	}
}

// failSendLocked makes the send side fail with err.
func (s *stream) failSendLocked(err error) {
	if s.sendErr == nil {
		s.sendErr = err
	}
	s.sendDone = true
	s.blockedSince = time.Time{}
	s.releaseSendLocked()
	s.space.Broadcast()
}

// errWriteAfterEnd is returned by writes after the stream's end is queued.
var errWriteAfterEnd = errors.New("h2: write after the end of the stream")

// bigWrite is the size from which a write lends its bytes to the writer
// goroutine and waits until they are framed, instead of copying them.
const bigWrite = 32 << 10

// write queues p as DATA. Small writes are copied and return at once
// (unless the stream has queued maxStreamSendBuffer bytes, then they wait);
// large ones wait until the writer has framed them and the socket write
// that carries them is done. If flush is set, or enough is queued, the
// writer is woken. One goroutine at a time may write.
func (s *stream) write(p []byte, flush bool) (int, error) {
	return s.writeData(p, flush, false)
}

// writeOverlapped is write for a caller that alternates between two
// buffers: a large p is lent once the previous lent buffer has gone out,
// and the call returns as soon as p is framed, while the socket write that
// refers to it may still be running, so that the caller fills its other
// buffer meanwhile. The caller must not touch p again before its next
// writeOverlapped or waitWritten.
func (s *stream) writeOverlapped(p []byte) (int, error) {
	return s.writeData(p, true, true)
}

// waitWritten waits until no batch refers to bytes the stream lent.
func (s *stream) waitWritten() {
	s.c.mu.Lock()
	for s.lent > 0 {
		s.waitLocked()
	}
	s.c.mu.Unlock()
}

func (s *stream) writeData(p []byte, flush, overlapped bool) (int, error) {
	c := s.c
	limit := c.limits.maxStreamSendBuffer
	c.mu.Lock()
	written := 0
	wake := false
	for len(p) > 0 {
		if err := s.writeErrLocked(); err != nil {
			c.mu.Unlock()
			if wake {
				c.wakeWriter()
			}
			return written, err
		}
		queued := s.queuedLocked()
		if len(p) >= bigWrite {
			if overlapped {
				// The previous buffer goes out before this one is lent.
				for s.lent > 0 {
					s.waitLocked()
				}
				if err := s.writeErrLocked(); err != nil {
					c.mu.Unlock()
					return written, err
				}
			}
			// Lend p to the writer and wait until it is framed.
			s.borrowed = p
			if c.scheduleLocked(s) {
				wake = true
			}
			if wake {
				wake = false
				c.mu.Unlock()
				c.wakeWriter()
				c.mu.Lock()
			}
			for s.borrowed != nil && s.sendErr == nil && !s.writeExpiredLocked() {
				s.waitLocked()
			}
			for s.lent > 0 && !overlapped {
				// A batch being written still refers to p: one write.
				s.waitLocked()
			}
			if s.borrowed != nil || s.sendErr != nil {
				// The stream failed (or the deadline passed) before all
				// of p was framed.
				if s.borrowed != nil {
					written += len(p) - len(s.borrowed)
					s.borrowed = nil
				}
				err := s.writeErrLocked()
				c.mu.Unlock()
				return written, err
			}
			written += len(p)
			p = nil
			break
		}
		if queued >= limit {
			if c.scheduleLocked(s) {
				c.mu.Unlock()
				c.wakeWriter()
				c.mu.Lock()
			}
			s.waitLocked()
			continue
		}
		n := min(len(p), limit-queued)
		if s.data == nil {
			s.data = getBuf(n)
		} else if s.dataOff > 0 && cap(s.data)-len(s.data) < n {
			// Move the unwritten bytes to the front rather than grow.
			k := copy(s.data, s.data[s.dataOff:])
			s.data, s.dataOff = s.data[:k], 0
		}
		s.data = append(growBuf(s.data, n), p[:n]...)
		p = p[n:]
		written += n
	}
	if flush || s.queuedLocked() >= int(c.peer.maxFrameSize) {
		if c.scheduleLocked(s) {
			wake = true
		}
	}
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	return written, nil
}

// writeErrLocked reports why the stream cannot be written.
func (s *stream) writeErrLocked() error {
	switch {
	case s.sendErr != nil:
		return s.sendErr
	case s.sendDone || s.endAfterData:
		return errWriteAfterEnd
	case s.writeExpiredLocked():
		return os.ErrDeadlineExceeded
	}
	return nil
}

func (s *stream) writeExpiredLocked() bool {
	return !s.wdeadline.IsZero() && !time.Now().Before(s.wdeadline)
}

// waitLocked waits for the writer to make progress on s.
func (s *stream) waitLocked() {
	if !s.wdeadline.IsZero() && s.wtimer == nil {
		// Only a write that waits needs the deadline's timer.
		s.wtimer = time.AfterFunc(time.Until(s.wdeadline), s.writeDeadlineFired)
	}
	s.waiters++
	s.space.Wait()
	s.waiters--
}

// setWriteDeadline makes blocked and later writes fail once t has passed.
func (s *stream) setWriteDeadline(t time.Time) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s.wdeadline = t
	if s.wtimer != nil {
		s.wtimer.Stop()
		s.wtimer = nil
	}
	if s.waiters > 0 {
		// Let waiting writes look at the new deadline.
		s.space.Broadcast()
	}
}

// writeDeadlineFired wakes waiting writes when the write deadline passes.
func (s *stream) writeDeadlineFired() {
	s.c.mu.Lock()
	s.space.Broadcast()
	s.c.mu.Unlock()
}

// flush makes the writer write what s has queued.
func (s *stream) flush() error {
	c := s.c
	c.mu.Lock()
	err := s.sendErr
	wake := c.scheduleLocked(s)
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	return err
}

// sendHeaders queues a header block; end ends the stream with it. It
// takes ownership of fl.
func (s *stream) sendHeaders(fl *fieldList, end bool) error {
	c := s.c
	c.mu.Lock()
	if s.sendErr != nil || s.sendDone {
		err := s.sendErr
		c.mu.Unlock()
		putFieldList(fl)
		if err == nil {
			err = errWriteAfterEnd
		}
		return err
	}
	s.hdr = fl
	s.hdrEnd = end
	wake := c.scheduleLocked(s)
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	return nil
}

// end queues the end of the stream after its data, with trailers if fl is
// not nil. It takes ownership of fl.
func (s *stream) end(fl *fieldList) error {
	c := s.c
	c.mu.Lock()
	if s.sendErr != nil || s.sendDone || s.endAfterData {
		err := s.sendErr
		c.mu.Unlock()
		if fl != nil {
			putFieldList(fl)
		}
		return err
	}
	s.trailers = fl
	s.endAfterData = true
	wake := c.scheduleLocked(s)
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	return nil
}

// reset ends the stream with RST_STREAM code (unless its HEADERS never
// went out: then there is nothing to reset) and fails both sides with err.
func (s *stream) reset(code http2.ErrCode, err error) {
	c := s.c
	c.mu.Lock()
	wake := false
	if !s.resetByUs && (c.server || s.hdrWritten) && !(s.sendDone && s.recvDone) {
		if c.queueCtrlLocked(ctrlFrame{kind: ctrlRSTStream, streamID: s.id, code: code}) {
			wake = true
		}
	}
	s.resetByUs = true
	s.failSendLocked(err)
	s.recvDone = true
	c.removeLocked(s)
	overflow := c.ctrlOverflow
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	s.recv.fail(err)
	if s.srv != nil {
		s.srv.ctx.cancel(context.Canceled)
	}
	if s.cli != nil {
		s.cli.fail(err)
	}
	if overflow {
		c.closeWithError(errControlFlood)
	}
}

// peerEnded records that the peer has ended its side of s; the stream is
// closed if ours is done too.
func (s *stream) peerEnded() {
	c := s.c
	c.mu.Lock()
	s.recvDone = true
	if s.sendDone {
		c.removeLocked(s)
	}
	c.mu.Unlock()
}

// removeLocked takes a closed stream out of the stream table.
func (c *conn) removeLocked(s *stream) {
	if s.removed {
		return
	}
	s.removed = true
	if c.streams[s.id] == s {
		delete(c.streams, s.id)
	}
	c.role.streamClosedLocked(s)
}

// copyTrailers hands received trailers to the request or response, in the
// Read that reaches the end of the body.
func (s *stream) copyTrailers(t http.Header) {
	switch {
	case s.srv != nil:
		s.srv.copyTrailers(t)
	case s.cli != nil:
		s.cli.copyTrailers(t)
	}
}

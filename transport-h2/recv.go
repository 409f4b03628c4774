package h2

import (
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// recvBuffer holds the DATA a stream has received and not yet read, and
// does the stream's receive-side flow control: the window goes back to the
// peer as the consumer reads, so a consumer that stops reading stops the
// peer.
type recvBuffer struct {
	s       *stream
	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte
	off     int
	err     error // returned once buf is drained: io.EOF at the end
	waiting bool
	avail   int64 // what the peer may still send on the stream
	window  int64 // the window the consumer keeps open
	unacked int64 // read, not yet returned to the peer
	closed  bool  // the consumer is gone: data is dropped
	trailer http.Header
	eofSeen bool
	// wakePending: the reader goroutine owes the waiting consumer a
	// signal, which it gives once it has read what is buffered.
	wakePending bool
	rdeadline   time.Time
	rtimer      *time.Timer
}

// setWindow sets the initial window.
func (b *recvBuffer) setWindow(w int32) {
	b.avail = int64(w)
	b.window = int64(w)
}

// push adds a DATA frame's data; padding (frameLen beyond data) counts
// against the window and goes straight back. end marks END_STREAM. It
// returns a stream error if the peer overran the window, and the window
// increment to send for padding or dropped data.
func (b *recvBuffer) push(data []byte, frameLen int, end bool) (inc uint32, err error) {
	b.mu.Lock()
	b.avail -= int64(frameLen)
	if b.avail < 0 {
		b.mu.Unlock()
		return 0, streamError{id: b.s.id, code: http2.ErrCodeFlowControl, reason: "DATA beyond the stream window"}
	}
	returned := int64(frameLen - len(data))
	if b.closed || b.err != nil {
		returned = int64(frameLen)
	} else {
		if len(data) > 0 {
			if b.buf == nil {
				b.buf = getBuf(len(data))
			} else if cap(b.buf)-len(b.buf) < len(data) && b.off > 0 {
				// Make room by moving the unread bytes to the front.
				n := copy(b.buf, b.buf[b.off:])
				b.buf, b.off = b.buf[:n], 0
			}
			b.buf = append(growBuf(b.buf, len(data)), data...)
		}
		if end {
			b.err = io.EOF
		}
		b.deferWakeLocked()
	}
	if !end && returned > 0 {
		b.unacked += returned
		inc = b.takeIncLocked()
	}
	b.mu.Unlock()
	return inc, nil
}

// deferWakeLocked notes that a waiting consumer has something to read. The
// reader goroutine wakes it once it has read everything already buffered
// on the connection, so that a burst of frames (a response's headers, data
// and trailers, say) wakes the consumer once, not once per frame.
func (b *recvBuffer) deferWakeLocked() {
	if b.waiting && !b.wakePending {
		b.wakePending = true
		c := b.s.c
		c.deferredRecv = append(c.deferredRecv, b)
	}
}

// wake gives a consumer the signal deferWakeLocked owed it.
func (b *recvBuffer) wake() {
	b.mu.Lock()
	b.wakePending = false
	b.cond.Signal()
	b.mu.Unlock()
}

// takeIncLocked returns the window increment to send now, if the unacked
// bytes are worth a WINDOW_UPDATE.
func (b *recvBuffer) takeIncLocked() uint32 {
	if b.unacked < b.window/4 || b.err != nil {
		return 0
	}
	inc := b.unacked
	b.unacked = 0
	b.avail += inc
	return uint32(inc)
}

// Read reads received data. At the end it returns io.EOF (after running
// onEOF once), or the error the stream failed with.
func (b *recvBuffer) Read(p []byte) (int, error) {
	b.mu.Lock()
	for {
		if n := len(b.buf) - b.off; n > 0 {
			n = copy(p, b.buf[b.off:])
			b.off += n
			if b.off == len(b.buf) {
				b.buf, b.off = b.buf[:0], 0
				if b.err != nil {
					putBuf(b.buf)
					b.buf = nil
				}
			}
			b.unacked += int64(n)
			inc := b.takeIncLocked()
			b.mu.Unlock()
			if inc > 0 {
				b.s.c.queueCtrl(ctrlFrame{kind: ctrlWindowUpdate, streamID: b.s.id, n: inc})
			}
			return n, nil
		}
		if b.err != nil {
			err := b.err
			if err == io.EOF && !b.eofSeen {
				b.eofSeen = true
				b.s.copyTrailers(b.trailer)
			}
			b.mu.Unlock()
			return 0, err
		}
		if !b.rdeadline.IsZero() && !time.Now().Before(b.rdeadline) {
			b.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		if len(p) == 0 {
			b.mu.Unlock()
			return 0, nil
		}
		if !b.rdeadline.IsZero() && b.rtimer == nil {
			// A read is about to wait: only now does the deadline need a
			// timer (most bodies are there before the handler reads).
			b.rtimer = time.AfterFunc(time.Until(b.rdeadline), b.deadlineFired)
		}
		b.waiting = true
		b.cond.Wait()
		b.waiting = false
	}
}

// endWithTrailers ends the stream with trailers (from the reader goroutine).
func (b *recvBuffer) endWithTrailers(t http.Header) {
	b.mu.Lock()
	if b.err == nil {
		b.trailer = t
		b.err = io.EOF
		b.deferWakeLocked()
	}
	b.mu.Unlock()
}

// fail makes reads return err, dropping what is buffered, unless the
// peer had already ended the stream cleanly: what it sent stays readable.
func (b *recvBuffer) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
		if b.buf != nil {
			putBuf(b.buf)
			b.buf, b.off = nil, 0
		}
	}
	if b.rtimer != nil {
		b.rtimer.Stop()
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

// close is the consumer giving up: later data is dropped and reads fail
// with err.
func (b *recvBuffer) close(err error) {
	b.mu.Lock()
	b.closed = true
	if b.err == nil || b.err == io.EOF {
		b.err = err
	}
	if b.buf != nil {
		putBuf(b.buf)
		b.buf, b.off = nil, 0
	}
	if b.rtimer != nil {
		b.rtimer.Stop()
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

// ended reports whether the peer ended the stream cleanly and everything
// was read.
func (b *recvBuffer) drained() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err == io.EOF && b.off == len(b.buf)
}

// grow raises the window by delta after the connection grew its stream
// window.
func (b *recvBuffer) grow(delta int32) {
	b.mu.Lock()
	b.window += int64(delta)
	b.avail += int64(delta)
	b.mu.Unlock()
}

// setReadDeadline makes blocked and later reads fail once t has passed. The
// timer behind it starts only when a read has to wait.
func (b *recvBuffer) setReadDeadline(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rdeadline = t
	if b.rtimer != nil {
		b.rtimer.Stop()
		b.rtimer = nil
	}
	if b.waiting {
		// Let a waiting read look at the new deadline (and arm a timer).
		b.cond.Broadcast()
	}
}

// deadlineFired wakes waiting reads when the read deadline passes.
func (b *recvBuffer) deadlineFired() {
	b.mu.Lock()
	b.cond.Broadcast()
	b.mu.Unlock()
}

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
// peer, and it grows (to the connection's target) only when the consumer
// has drained it, so a stream nobody reads keeps its initial window. What
// it holds counts against the connection's budget (flow.go).
type recvBuffer struct {
	s       *stream
	mu      sync.Mutex
	cond    sync.Cond
	data    chunkQueue // received, not yet read
	err     error      // returned once data is drained: io.EOF at the end
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
			b.data.write(data)
			c := b.s.c
			c.hold(len(data))
			c.delivered(len(data))
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
		if b.data.len() > 0 {
			n := b.data.read(p)
			if n == 0 {
				b.mu.Unlock()
				return 0, nil
			}
			drained := b.data.len() == 0
			if drained && b.err != nil {
				b.data.release()
			}
			b.unacked += int64(n)
			c := b.s.c
			if drained && b.err == nil {
				// Drained: the reader keeps up, and the window may be
				// what holds the peer back. Grow it to the target.
				if target := int64(c.streamWindow.v.Load()); b.window < target {
					b.unacked += target - b.window
					b.window = target
				}
			}
			inc := b.takeIncLocked()
			b.mu.Unlock()
			c.release(n)
			if inc > 0 {
				c.queueCtrl(ctrlFrame{kind: ctrlWindowUpdate, streamID: b.s.id, n: inc})
			}
			return n, nil
		}
		if b.err != nil {
			err := b.err
			b.data.release() // the chunk kept for more data
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
	dropped := 0
	if b.err == nil {
		b.err = err
		dropped = b.dropLocked()
	}
	if b.rtimer != nil {
		b.rtimer.Stop()
	}
	b.cond.Broadcast()
	b.mu.Unlock()
	if dropped > 0 {
		b.s.c.release(dropped)
	}
}

// close is the consumer giving up: later data is dropped and reads fail
// with err.
func (b *recvBuffer) close(err error) {
	if dropped := b.closeBuffer(err); dropped > 0 {
		b.s.c.release(dropped)
	}
}

// closeLocked is close for a caller that holds the connection's lock.
func (b *recvBuffer) closeLocked(err error) {
	if dropped := b.closeBuffer(err); dropped > 0 {
		b.s.c.releaseLocked(dropped)
	}
}

// closeBuffer does close's work and returns how many unread bytes it
// dropped.
func (b *recvBuffer) closeBuffer(err error) int {
	b.mu.Lock()
	b.closed = true
	if b.err == nil || b.err == io.EOF {
		b.err = err
	}
	dropped := b.dropLocked()
	if b.rtimer != nil {
		b.rtimer.Stop()
	}
	b.cond.Broadcast()
	b.mu.Unlock()
	return dropped
}

// dropLocked frees the buffer and returns how many unread bytes it held.
func (b *recvBuffer) dropLocked() int {
	return b.data.release()
}

// ended reports whether the peer ended the stream cleanly and everything
// was read.
func (b *recvBuffer) drained() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err == io.EOF && b.data.len() == 0
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

package h2

import (
	"sync"
	"sync/atomic"
)

// The receive side of a connection's flow control, and the memory it
// bounds.
//
// Every byte a connection holds for its streams was either received and is
// waiting in a stream's buffer for its handler (or caller) to read it, or
// may still arrive because the connection window allows it. connRecv keeps
// the sum of the two within a budget (WithConnBufferLimit, 16 MiB by
// default): the connection window is returned as DATA arrives while the
// buffers are nearly empty, so one slow stream does not hold up the others,
// and is held back once what the streams hold nears the budget, until
// their readers catch up. Stream windows start at the initial window
// (256 KiB) and grow, up to the target the bandwidth-delay estimate sets,
// only when their reader has drained them, so a stream nobody reads never
// holds more than its initial window.

// connRecv is a connection's receive window and what its streams hold.
type connRecv struct {
	mu       sync.Mutex
	avail    int64 // what the peer may still send on the connection
	unacked  int64 // received and not yet returned to the peer
	buffered int64 // held in stream buffers, not yet read
	window   int64 // the window kept open while nothing is buffered
	budget   int64 // the most buffered+avail may reach
}

// minWindowUpdate is the smallest connection WINDOW_UPDATE sent while the
// peer has less than a quarter of the window left: a frame's worth.
const minWindowUpdate = 16 << 10

// takeIncLocked returns the connection window increment to send now, if
// one is worth a frame and the budget has room for it.
func (f *connRecv) takeIncLocked() uint32 {
	inc := min(f.unacked, f.budget-f.buffered-f.avail)
	if inc <= 0 {
		return 0
	}
	if inc < f.window/4 && (f.avail >= f.window/4 || inc < min(minWindowUpdate, f.unacked)) {
		return 0
	}
	f.unacked -= inc
	f.avail += inc
	return uint32(inc)
}

// received takes n bytes of a DATA frame off the connection window. It
// reports false if the peer sent more than the window allowed.
func (c *conn) received(n int64) bool {
	f := &c.flow
	f.mu.Lock()
	f.avail -= n
	f.unacked += n
	ok := f.avail >= 0
	f.mu.Unlock()
	return ok
}

// hold counts n bytes a stream buffered. The caller holds the stream
// buffer's lock, so that a Read cannot release them first.
func (c *conn) hold(n int) {
	c.flow.mu.Lock()
	c.flow.buffered += int64(n)
	c.flow.mu.Unlock()
}

// release counts n buffered bytes read (or dropped) and returns the
// connection window they free, if it is worth a frame.
func (c *conn) release(n int) {
	f := &c.flow
	f.mu.Lock()
	f.buffered -= int64(n)
	inc := f.takeIncLocked()
	f.mu.Unlock()
	if inc > 0 {
		c.queueCtrl(ctrlFrame{kind: ctrlWindowUpdate, n: inc})
	}
}

// releaseLocked is release for a caller that holds c.mu: the writer
// goroutine, which writes the WINDOW_UPDATE with the batch it is building.
func (c *conn) releaseLocked(n int) {
	f := &c.flow
	f.mu.Lock()
	f.buffered -= int64(n)
	inc := f.takeIncLocked()
	f.mu.Unlock()
	if inc > 0 {
		c.queueCtrlLocked(ctrlFrame{kind: ctrlWindowUpdate, n: inc})
	}
}

// returnConnWindow sends the connection WINDOW_UPDATE that what was
// received allows, if any (reader goroutine).
func (c *conn) returnConnWindow() {
	f := &c.flow
	f.mu.Lock()
	inc := f.takeIncLocked()
	f.mu.Unlock()
	if inc > 0 {
		c.queueCtrl(ctrlFrame{kind: ctrlWindowUpdate, n: inc})
	}
}

// bufferedBytes reports what the connection's streams hold unread.
func (c *conn) bufferedBytes() int64 {
	c.flow.mu.Lock()
	defer c.flow.mu.Unlock()
	return c.flow.buffered
}

// streamTarget is the window a stream whose reader keeps up may grow to;
// the bandwidth-delay estimate raises it.
type streamTarget struct{ v atomic.Int32 }

// growWindows raises the stream target and the connection window by inc
// after a bandwidth-delay sample showed the current ones limit throughput.
// Streams take up the new target as their readers drain them.
func (c *conn) growWindows(inc int32) {
	cur := c.streamWindow.v.Load()
	newStream := int32(min(int64(cur)+int64(inc), int64(c.limits.maxStreamWindow)))
	f := &c.flow
	f.mu.Lock()
	newConn := min(f.window+int64(inc), int64(c.limits.maxConnWindow), f.budget)
	cdelta := newConn - f.window
	if newStream <= cur && cdelta <= 0 {
		f.mu.Unlock()
		c.bdp.enabled = false
		return
	}
	var winc uint32
	if cdelta > 0 {
		f.window = newConn
		f.unacked += cdelta
		winc = f.takeIncLocked()
	}
	f.mu.Unlock()
	if newStream > cur {
		c.streamWindow.v.Store(newStream)
	}
	if winc > 0 {
		c.queueCtrl(ctrlFrame{kind: ctrlWindowUpdate, n: winc})
	}
}

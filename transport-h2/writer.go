package h2

import (
	"encoding/binary"
	"net"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The writer: one goroutine per connection turns what streams and the
// reader queued into frames, many at a time, and hands them to the socket in
// one write. Everything it reads from streams is guarded by conn.mu; the
// batch buffer, the HPACK encoder and the frame writer are its own.

const (
	// maxBatch is the size at which the writer stops adding frames to a
	// batch and writes it, even if more is queued.
	maxBatch = 128 << 10
	// smallBatch is the size under which the writer yields once before
	// writing, so that goroutines about to queue frames can join the batch.
	smallBatch = 4 << 10
	// streamQuantum is how much DATA one stream may add to a batch before
	// the writer moves on to the next stream that has something to send.
	streamQuantum = 64 << 10
	// maxQueuedControlFrames bounds the control frames (acknowledgements,
	// resets, window updates) waiting to be written. A peer that makes the
	// connection queue more is not reading what it asks for, and the
	// connection is closed.
	maxQueuedControlFrames = 10000
	// frameHeaderLen is the size of an HTTP/2 frame header.
	frameHeaderLen = 9
)

// batchWriter collects frames for one write to the connection. The writer
// goroutine owns it. On a plain TCP connection, large DATA payloads lent by
// their writers (see stream.write) are not copied into the batch but
// referred to, and the batch goes out with one writev.
type batchWriter struct {
	nc       net.Conn
	buf      []byte
	vectored bool      // nc takes writev: payloads may be referred to
	refs     []dataRef // payloads the batch refers to, in order
	iov      net.Buffers
}

// dataRef is a lent payload in the batch: it goes out after buf[:at].
type dataRef struct {
	at int
	p  []byte
	s  *stream
}

// vectoredWrites makes batches on plain TCP refer to large lent payloads
// and go out with one writev, instead of copying them into the batch and
// writing it with one write. It is off: measured side by side on loopback
// (bench/results/2026-12-05-h2default), the copy and one write cost less
// CPU per call for streams (client stream 9% less, server stream 14% less,
// and client streaming then level with net/http's) and the same for 1 MiB
// unary calls. Tests turn it on to keep the path working.
var vectoredWrites atomic.Bool

// minRef is the smallest payload worth an iovec of its own.
const minRef = 4 << 10

// Write appends p. It is the frame writer's io.Writer and never fails: the
// socket is written by flush, outside the connection lock.
func (b *batchWriter) Write(p []byte) (int, error) {
	b.buf = append(growBuf(b.buf, len(p)), p...)
	return len(p), nil
}

// appendDataFrame appends a DATA frame carrying data. It writes the 9-byte
// frame header itself rather than through the Framer, which would copy the
// payload into its own buffer before copying it into this one.
func (b *batchWriter) appendDataFrame(streamID uint32, end bool, data []byte) {
	var flags byte
	if end {
		flags = byte(http2.FlagDataEndStream)
	}
	n := len(data)
	b.buf = growBuf(b.buf, frameHeaderLen+n)
	b.buf = append(b.buf, byte(n>>16), byte(n>>8), byte(n), byte(http2.FrameData), flags)
	b.buf = binary.BigEndian.AppendUint32(b.buf, streamID&(1<<31-1))
	b.buf = append(b.buf, data...)
}

// appendDataRef appends a DATA frame header and refers to its payload,
// which the stream lent and must not reuse until the batch is written.
func (b *batchWriter) appendDataRef(s *stream, end bool, data []byte) {
	b.appendDataFrame(s.id, end, nil)
	n := len(data)
	h := b.buf[len(b.buf)-frameHeaderLen:]
	h[0], h[1], h[2] = byte(n>>16), byte(n>>8), byte(n)
	b.refs = append(b.refs, dataRef{at: len(b.buf), p: data, s: s})
	s.lent += n
}

// size is how many bytes the batch holds.
func (b *batchWriter) size() int {
	n := len(b.buf)
	for _, r := range b.refs {
		n += len(r.p)
	}
	return n
}

// flush writes the batch to the socket. The lent payloads it referred to
// are released by releaseRefsLocked afterwards.
func (b *batchWriter) flush() error {
	if len(b.refs) == 0 {
		if len(b.buf) == 0 {
			return nil
		}
		_, err := b.nc.Write(b.buf)
		b.buf = b.buf[:0]
		return err
	}
	iov := b.iov[:0]
	prev := 0
	for _, r := range b.refs {
		if r.at > prev {
			iov = append(iov, b.buf[prev:r.at])
		}
		iov = append(iov, r.p)
		prev = r.at
	}
	if prev < len(b.buf) {
		iov = append(iov, b.buf[prev:])
	}
	b.iov = iov
	_, err := iov.WriteTo(b.nc) // consumes its own copy of the slice header
	clear(b.iov[:cap(b.iov)])
	b.buf = b.buf[:0]
	return err
}

// releaseRefsLocked tells the streams whose payloads the batch referred to
// that they are written (or will never be): their writers may go on.
func (c *conn) releaseRefsLocked() {
	for i, r := range c.bw.refs {
		r.s.lent -= len(r.p)
		if r.s.lent == 0 && r.s.waiters > 0 {
			r.s.space.Broadcast()
		}
		c.bw.refs[i] = dataRef{}
	}
	c.bw.refs = c.bw.refs[:0]
}

// release gives the batch buffer back to the pool while the connection has
// nothing to write, so that idle connections hold no write buffer.
func (b *batchWriter) release() {
	if b.buf != nil {
		putBuf(b.buf)
		b.buf = nil
	}
}

// ctrlKind tells the control frames apart.
type ctrlKind uint8

const (
	ctrlSettings ctrlKind = iota
	ctrlSettingsAck
	ctrlPing
	ctrlPingAck
	ctrlWindowUpdate
	ctrlRSTStream
	ctrlGoAway
	ctrlHeaders // informational (1xx) response headers
)

// ctrlFrame is a frame that is not part of a stream's ordered output:
// written before the streams' frames in each batch, in the order queued.
type ctrlFrame struct {
	kind     ctrlKind
	streamID uint32
	code     http2.ErrCode
	n        uint32 // window increment, or GOAWAY's last stream ID
	data     [8]byte
	settings []http2.Setting
	fields   *fieldList
	debug    string
}

// writeLoop is the writer goroutine.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	c.mu.Lock()
	yielded := false
	for {
		for !c.hasWorkLocked() {
			if c.writeClosed || c.lingerAfterFlush {
				c.writerExitLocked()
				return
			}
			c.writerIdle = true
			c.bw.release()
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		c.fillLocked()
		if !yielded && c.bw.size() < smallBatch && !c.lingerAfterFlush {
			// A small batch: let goroutines that are about to queue
			// frames (other streams' responses, say) do so, and write
			// them all at once.
			yielded = true
			c.mu.Unlock()
			runtime.Gosched()
			c.mu.Lock()
			if c.hasWorkLocked() && !c.writeClosed {
				continue
			}
		}
		yielded = false
		if c.writeClosed {
			c.writerExitLocked()
			return
		}
		c.flushing = time.Now()
		c.mu.Unlock()
		err := c.bw.flush()
		c.mu.Lock()
		c.releaseRefsLocked()
		c.flushing = time.Time{}
		if err != nil {
			c.mu.Unlock()
			c.closeWithError(err)
			c.mu.Lock()
			c.writerExitLocked()
			return
		}
	}
}

// writerExitLocked ends the writer goroutine: it unlocks c.mu, and after a
// final GOAWAY it shuts the connection down.
func (c *conn) writerExitLocked() {
	c.releaseRefsLocked()
	linger := c.lingerAfterFlush && !c.writeClosed
	c.writeClosed = true
	c.mu.Unlock()
	if linger {
		c.lingerClose()
	}
}

// hasWorkLocked reports whether anything can be written now.
func (c *conn) hasWorkLocked() bool {
	return len(c.ctrl) > 0 || c.ready.len() > 0
}

// signalWriterLocked wakes the writer if it sleeps; the caller holds c.mu.
// The wake-up itself happens when the caller calls wakeWriter after
// unlocking, if this returned true.
func (c *conn) signalWriterLocked() bool {
	if c.writerIdle {
		c.writerIdle = false
		return true
	}
	return false
}

// wakeWriter wakes the writer goroutine.
func (c *conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// queueCtrlLocked queues a control frame. It returns false, and closes the
// connection, if the peer has made the connection queue too many.
func (c *conn) queueCtrlLocked(f ctrlFrame) (wake bool) {
	if c.writeClosed || c.closeErr != nil || c.lingerAfterFlush {
		return false
	}
	if len(c.ctrl) >= maxQueuedControlFrames {
		c.ctrlOverflow = true
		return false
	}
	c.ctrl = append(c.ctrl, f)
	return c.signalWriterLocked()
}

// queueCtrl queues a control frame and wakes the writer.
func (c *conn) queueCtrl(f ctrlFrame) {
	c.mu.Lock()
	wake := c.queueCtrlLocked(f)
	overflow := c.ctrlOverflow
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	if overflow {
		c.closeWithError(errControlFlood)
	}
}

// fillLocked writes queued frames into the batch until nothing can be
// written or the batch is full.
func (c *conn) fillLocked() {
	for c.hasWorkLocked() && c.bw.size() < maxBatch {
		for i := range c.ctrl {
			c.writeCtrlLocked(&c.ctrl[i])
			c.ctrl[i] = ctrlFrame{}
		}
		c.ctrl = c.ctrl[:0]
		for c.bw.size() < maxBatch {
			s := c.ready.pop()
			if s == nil {
				break
			}
			s.inReady = false
			c.writeStreamLocked(s)
			if len(c.ctrl) > 0 {
				// A stream's frames may have queued control frames
				// (the writer never does, but be safe): go round.
				break
			}
		}
	}
}

func (c *conn) writeCtrlLocked(f *ctrlFrame) {
	fr := c.wfr
	switch f.kind {
	case ctrlSettings:
		_ = fr.WriteSettings(f.settings...)
	case ctrlSettingsAck:
		_ = fr.WriteSettingsAck()
	case ctrlPing:
		_ = fr.WritePing(false, f.data)
	case ctrlPingAck:
		_ = fr.WritePing(true, f.data)
	case ctrlWindowUpdate:
		_ = fr.WriteWindowUpdate(f.streamID, f.n)
	case ctrlRSTStream:
		_ = fr.WriteRSTStream(f.streamID, f.code)
	case ctrlGoAway:
		_ = fr.WriteGoAway(f.n, f.code, []byte(f.debug))
	case ctrlHeaders:
		c.writeHeaderBlockLocked(f.streamID, f.fields, false)
		putFieldList(f.fields)
	}
}

// writeHeaderBlockLocked encodes fields and writes them as a HEADERS frame
// followed by as many CONTINUATION frames as the peer's frame size needs.
func (c *conn) writeHeaderBlockLocked(streamID uint32, fl *fieldList, end bool) {
	c.hbuf.Reset()
	for i := range fl.fields {
		f := fl.fields[i]
		f.Name = c.lowerName(f.Name)
		_ = c.henc.WriteField(f)
	}
	block := c.hbuf.Bytes()
	max := int(c.peer.maxFrameSize)
	first := block
	if len(first) > max {
		first = first[:max]
	}
	block = block[len(first):]
	_ = c.wfr.WriteHeaders(http2.HeadersFrameParam{
		StreamID:      streamID,
		BlockFragment: first,
		EndStream:     end,
		EndHeaders:    len(block) == 0,
	})
	for len(block) > 0 {
		frag := block
		if len(frag) > max {
			frag = frag[:max]
		}
		block = block[len(frag):]
		_ = c.wfr.WriteContinuation(streamID, len(block) == 0, frag)
	}
}

// lowerName returns the HTTP/2 (lower-case) form of a header name, from a
// cache for the names this connection has sent before.
func (c *conn) lowerName(name string) string {
	if isLowerASCII(name) {
		return name
	}
	if v, ok := commonLower[name]; ok {
		return v
	}
	if v, ok := c.lowerCache[name]; ok {
		return v
	}
	v := lowerASCII(name)
	if len(c.lowerCache) < maxNameCache {
		if c.lowerCache == nil {
			c.lowerCache = make(map[string]string)
		}
		c.lowerCache[name] = v
	}
	return v
}

// writeStreamLocked writes what stream s can send now: its headers, data
// within the flow-control windows (up to streamQuantum), and its end. It puts
// s back in the ready queue if it has more it could send.
func (c *conn) writeStreamLocked(s *stream) {
	if s.sendDone {
		return
	}
	if s.hdr != nil {
		end := s.hdrEnd
		c.sentSincePing = true
		c.writeHeaderBlockLocked(s.id, s.hdr, end)
		putFieldList(s.hdr)
		s.hdr = nil
		s.hdrWritten = true
		if end {
			c.sentEndLocked(s)
			return
		}
	}
	wrote := 0
	for wrote < streamQuantum {
		chunk := s.pendingLocked()
		if len(chunk) == 0 {
			break
		}
		n := min(int64(len(chunk)), s.sendWindow, c.sendWindow, int64(c.peer.maxFrameSize))
		if n <= 0 {
			c.blockedLocked(s)
			return
		}
		chunk = chunk[:n]
		last := s.endAfterData && s.trailers == nil && int(n) == s.queuedLocked()
		if c.bw.vectored && n >= minRef && s.dataOff == len(s.data) {
			// Lent bytes: refer to them rather than copy them.
			c.bw.appendDataRef(s, last, chunk)
		} else {
			c.bw.appendDataFrame(s.id, last, chunk)
		}
		s.consumeLocked(int(n))
		s.sendWindow -= n
		c.sendWindow -= n
		c.dataSincePing = true
		c.sentSincePing = true
		wrote += int(n)
		if last {
			c.sentEndLocked(s)
			return
		}
	}
	if s.queuedLocked() > 0 {
		c.scheduleLocked(s)
		return
	}
	if s.endAfterData {
		if s.trailers != nil {
			c.writeHeaderBlockLocked(s.id, s.trailers, true)
			putFieldList(s.trailers)
			s.trailers = nil
		} else {
			c.bw.appendDataFrame(s.id, true, nil)
		}
		c.sentEndLocked(s)
	}
}

// blockedLocked notes that s has data but no window to send it with.
func (c *conn) blockedLocked(s *stream) {
	if s.blockedSince.IsZero() {
		s.blockedSince = time.Now()
	}
	if s.sendWindow > 0 && !s.connBlocked {
		// The connection's window is shut: wait for it.
		s.connBlocked = true
		c.connBlocked = append(c.connBlocked, s)
	}
}

// sentEndLocked records that s's last frame (END_STREAM) is in the batch.
func (c *conn) sentEndLocked(s *stream) {
	s.sendDone = true
	s.blockedSince = time.Time{}
	s.releaseSendLocked()
	s.space.Broadcast()
	c.role.sentEnd(s)
}

// scheduleLocked puts s in the ready queue if it can send something now, or
// notes what it waits for. It returns whether the writer must be woken.
func (c *conn) scheduleLocked(s *stream) (wake bool) {
	if s.inReady || s.sendDone || c.closeErr != nil || c.lingerAfterFlush {
		return false
	}
	switch {
	case s.hdr != nil:
	case s.queuedLocked() > 0:
		if s.sendWindow <= 0 || c.sendWindow <= 0 {
			c.blockedLocked(s)
			return false
		}
		s.blockedSince = time.Time{}
	case s.endAfterData:
	default:
		return false
	}
	s.inReady = true
	c.ready.push(s)
	return c.signalWriterLocked()
}

// streamQueue is a FIFO of streams.
type streamQueue struct {
	items []*stream
	head  int
}

func (q *streamQueue) len() int { return len(q.items) - q.head }

func (q *streamQueue) push(s *stream) {
	if q.head > 0 && q.head == len(q.items) {
		clear(q.items)
		q.items, q.head = q.items[:0], 0
	}
	q.items = append(q.items, s)
}

func (q *streamQueue) pop() *stream {
	if q.head == len(q.items) {
		return nil
	}
	s := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return s
}

// fieldList is a header block to encode: canonical or lower-case names
// (the writer lower-cases them) and values, pseudo-headers first.
type fieldList struct {
	fields []hpack.HeaderField
}

func (fl *fieldList) add(name, value string) {
	fl.fields = append(fl.fields, hpack.HeaderField{Name: name, Value: value})
}

func (fl *fieldList) addSensitive(name, value string) {
	fl.fields = append(fl.fields, hpack.HeaderField{Name: name, Value: value, Sensitive: true})
}

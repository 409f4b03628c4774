package rpc

import (
	"errors"
	"io"
	"sync"
)

// maxPooledBuffer is the largest buffer kept for reuse; bigger ones are left
// to the garbage collector so that one huge message does not pin memory.
const maxPooledBuffer = 8 << 20

// buffer is the pooled byte buffer of the hot paths: an append-only slice
// with the subset of bytes.Buffer's methods they use, plus setAppended, which
// takes bytes that a marshaler appended to AvailableBuffer in place without
// copying them onto themselves (bytes.Buffer has no way to extend its length
// without a Write, which is a full copy of a large message).
type buffer struct{ b []byte }

var bufferPool = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 512)} }}

func getBuffer() *buffer { return bufferPool.Get().(*buffer) }

func putBuffer(b *buffer) {
	if b == nil || cap(b.b) > maxPooledBuffer {
		return
	}
	b.b = b.b[:0]
	bufferPool.Put(b)
}

// Bytes returns the contents; the slice is valid until the next change.
func (b *buffer) Bytes() []byte { return b.b }

// Len returns the length of the contents.
func (b *buffer) Len() int { return len(b.b) }

// Cap returns the capacity of the underlying slice.
func (b *buffer) Cap() int { return cap(b.b) }

// Reset empties the buffer, keeping its capacity.
func (b *buffer) Reset() { b.b = b.b[:0] }

// Truncate keeps the first n bytes.
func (b *buffer) Truncate(n int) { b.b = b.b[:n] }

// Grow makes room for n more bytes without another allocation.
func (b *buffer) Grow(n int) {
	if cap(b.b)-len(b.b) >= n {
		return
	}
	c := 2 * cap(b.b)
	if c < len(b.b)+n {
		c = len(b.b) + n
	}
	nb := make([]byte, len(b.b), c)
	copy(nb, b.b)
	b.b = nb
}

// AvailableBuffer returns an empty slice with the buffer's spare capacity,
// for an append-style encoder; pass the result to setAppended.
func (b *buffer) AvailableBuffer() []byte { return b.b[len(b.b):] }

// setAppended adds p, the result of appending to AvailableBuffer, to the
// contents. When the appender wrote into the spare capacity, which is the
// case when it had room, nothing is copied. When it had to allocate, an empty
// buffer adopts the new array; otherwise p is copied.
func (b *buffer) setAppended(p []byte) {
	n := len(b.b)
	if len(p) == 0 {
		return
	}
	if cap(b.b)-n >= len(p) && &b.b[:n+1][n] == &p[0] {
		b.b = b.b[:n+len(p)]
		return
	}
	if n == 0 && cap(p) <= maxPooledBuffer {
		b.b = p
		return
	}
	b.b = append(b.b, p...)
}

// Write appends p. It never fails.
func (b *buffer) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}

// WriteString appends s. It never fails.
func (b *buffer) WriteString(s string) (int, error) {
	b.b = append(b.b, s...)
	return len(s), nil
}

// WriteByte appends c. It never fails.
func (b *buffer) WriteByte(c byte) error {
	b.b = append(b.b, c)
	return nil
}

// minRead is the least spare room ReadFrom offers a reader.
const minRead = 512

const maxInt = int(^uint(0) >> 1)

// growAtMost makes room for n more bytes, doubling the capacity as Grow
// does but never past max bytes in all (when max is at least len+n).
func (b *buffer) growAtMost(n, max int) {
	if cap(b.b)-len(b.b) >= n {
		return
	}
	c := 2 * cap(b.b)
	if c+minRead >= max {
		// Close enough: go straight to the bound rather than leave a few
		// bytes (a limit's "+1") for another growth of the whole buffer.
		c = max
	}
	if c < len(b.b)+n {
		c = len(b.b) + n
	}
	nb := make([]byte, len(b.b), c)
	copy(nb, b.b)
	b.b = nb
}

// ReadFrom appends what r yields until io.EOF, which it does not report.
// When r is an *io.LimitedReader, the buffer never grows past what it can
// still yield: reading a message of known size, or up to a read limit, ends
// with a buffer of about that size, not up to twice it. (A decompression
// bomb read up to the limit thus holds about the limit, and at most about
// 1.5 times it while the last growth copies.)
func (b *buffer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	lr, _ := r.(*io.LimitedReader)
	for {
		if cap(b.b)-len(b.b) < minRead {
			switch {
			case lr == nil:
				b.Grow(minRead)
			case lr.N <= 0:
				// Read reports io.EOF without touching the slice.
			case lr.N < minRead:
				b.growAtMost(int(lr.N), len(b.b)+int(lr.N))
			default:
				b.growAtMost(minRead, len(b.b)+int(min(lr.N, int64(maxInt-len(b.b)))))
			}
		}
		n := len(b.b)
		m, err := r.Read(b.b[n:cap(b.b)])
		if m < 0 {
			return total, errors.New("rpc: reader returned a negative count")
		}
		b.b = b.b[:n+m]
		total += int64(m)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

package h2

import (
	"math/bits"
	"sync"
)

// Byte buffers for DATA, pooled by power-of-two capacity from 4 KiB to
// 4 MiB. Larger ones are allocated and left to the garbage collector.
const (
	minBufShift = 12
	maxBufShift = 22
)

var (
	bufPools [maxBufShift - minBufShift + 1]sync.Pool
	// slicePtrs recycles the *[]byte boxes the pools hold, so that putting
	// a buffer back does not allocate one.
	slicePtrs = sync.Pool{New: func() any { return new([]byte) }}
)

// getBuf returns an empty slice with room for at least n bytes.
func getBuf(n int) []byte {
	shift := minBufShift
	if n > 1<<minBufShift {
		shift = bits.Len(uint(n - 1))
	}
	if shift > maxBufShift {
		return make([]byte, 0, n)
	}
	if p, ok := bufPools[shift-minBufShift].Get().(*[]byte); ok {
		b := (*p)[:0]
		*p = nil
		slicePtrs.Put(p)
		return b
	}
	return make([]byte, 0, 1<<shift)
}

// growBuf returns b with room for n more bytes, moving it to a larger
// pooled buffer if needed.
func growBuf(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := getBuf(len(b) + n)
	nb = append(nb, b...)
	putBuf(b)
	return nb
}

// putBuf returns b's array to its pool, if it came from one. b must not be
// used afterwards.
func putBuf(b []byte) {
	c := cap(b)
	if c < 1<<minBufShift || c > 1<<maxBufShift || c&(c-1) != 0 {
		return
	}
	p := slicePtrs.Get().(*[]byte)
	*p = b[:0]
	bufPools[bits.Len(uint(c))-1-minBufShift].Put(p)
}

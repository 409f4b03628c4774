package rpc

import (
	"bytes"
	"sync"
)

// maxPooledBuffer is the largest buffer kept for reuse; bigger ones are left
// to the garbage collector so that one huge message does not pin memory.
const maxPooledBuffer = 8 << 20

var bufferPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 512)) }}

func getBuffer() *bytes.Buffer {
	return bufferPool.Get().(*bytes.Buffer)
}

func putBuffer(b *bytes.Buffer) {
	if b == nil || b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	bufferPool.Put(b)
}

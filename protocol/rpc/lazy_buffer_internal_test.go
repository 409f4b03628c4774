package rpc

import (
	"io"
	"testing"
)

// blockedBody reports, from inside its first Read, whether the envelope
// reader already holds a read buffer, then ends the body.
type blockedBody struct {
	e      *envelopeReader
	sawBuf bool
	calls  int
}

func (b *blockedBody) Read(p []byte) (int, error) {
	b.calls++
	if b.calls == 1 {
		b.sawBuf = b.e.br != nil
	}
	return 0, io.EOF
}

// TestStreamReadBufferIsLazy: a stream that waits for its first message
// holds no read buffer (32 KiB per open stream on handlers, 8 KiB on
// clients); it comes once data arrives.
func TestStreamReadBufferIsLazy(t *testing.T) {
	for _, server := range []bool{true, false} {
		e := &envelopeReader{buffered: true, server: server}
		body := &blockedBody{e: e}
		e.r = body
		if _, err := e.read(&buffer{}); err != io.EOF {
			t.Fatalf("read: %v", err)
		}
		if body.sawBuf {
			t.Errorf("server=%v: a read buffer was taken before any data arrived", server)
		}
		e.release()
	}
}

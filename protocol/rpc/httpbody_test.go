package rpc

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
)

// The transport may close a request body from one goroutine while another
// reads it, and may close it twice; the buffer must be recycled exactly once,
// after both the transport and the caller are done, and never read after.
func TestPayloadBodyCloseWhileReading(t *testing.T) {
	for range 200 {
		buf := getBuffer()
		buf.Write(bytes.Repeat([]byte("x"), 64<<10))
		body := newPayloadBody(buf)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			p := make([]byte, 1024)
			for {
				if _, err := body.Read(p); err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
						t.Error(err)
					}
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			_ = body.Close()
			_ = body.Close()
		}()
		wg.Wait()
		if n := body.refs.Load(); n != 1 {
			t.Fatalf("after two Close calls the transport holds %d references, want 1", n)
		}
		body.release()
		if _, err := body.Read(make([]byte, 1)); !errors.Is(err, io.ErrClosedPipe) {
			t.Fatalf("read after close: %v", err)
		}
	}
}

package rpc

import (
	"bytes"
	"errors"
	"io"
	"net/http"
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

// Over HTTP/1.1 a small unary body is a *bytes.Reader, which net/http sends
// with the headers in one write; once the server has answered over HTTP/2,
// bodies stream from the pooled buffer instead.
func TestKnownLengthBodyFollowsTheHTTPVersion(t *testing.T) {
	var k knownLengthBody
	newReq := func() (*http.Request, *buffer) {
		buf := getBuffer()
		buf.WriteString("payload")
		return &http.Request{}, buf
	}
	req, buf := newReq()
	if body := k.set(req, buf); body != nil {
		t.Fatal("HTTP/1.1: got a pooled body")
	}
	if _, ok := req.Body.(interface {
		WriteTo(io.Writer) (int64, error)
	}); !ok || req.ContentLength != 7 {
		t.Fatalf("HTTP/1.1: body %T, length %d", req.Body, req.ContentLength)
	}
	again, _ := req.GetBody()
	if b, _ := io.ReadAll(again); string(b) != "payload" {
		t.Fatalf("GetBody: %q", b)
	}
	k.observe(&http.Response{ProtoMajor: 2})
	req, buf = newReq()
	body := k.set(req, buf)
	if body == nil || req.Body != io.ReadCloser(body) {
		t.Fatalf("HTTP/2: body %T", req.Body)
	}
	_ = body.Close()
	body.release()
	k.observe(&http.Response{ProtoMajor: 1})
	req, buf = newReq()
	if body := k.set(req, buf); body != nil {
		t.Fatal("back on HTTP/1.1: got a pooled body")
	}
}

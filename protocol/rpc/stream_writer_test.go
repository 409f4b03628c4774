package rpc

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// gateWriter is a ResponseWriter whose first Write waits for a gate, and
// which records every Write and Flush.
type gateWriter struct {
	gate     chan struct{}
	mu       sync.Mutex
	data     bytes.Buffer
	writes   []int
	flushes  int
	failWith error
	once     sync.Once
}

func (w *gateWriter) Header() http.Header { return http.Header{} }
func (w *gateWriter) WriteHeader(int)     {}
func (w *gateWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { <-w.gate })
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failWith != nil {
		return 0, w.failWith
	}
	w.writes = append(w.writes, len(p))
	return w.data.Write(p)
}
func (w *gateWriter) Flush() {
	w.mu.Lock()
	w.flushes++
	w.mu.Unlock()
}

// While the network is slow, messages queue up to the bound and then go out
// together, in order, with far fewer flushes than messages.
func TestStreamWriterCoalescesWithinTheBound(t *testing.T) {
	w := &gateWriter{gate: make(chan struct{})}
	s := newStreamWriter(context.Background(), context.Background(), w)
	const n, size = 2000, 1000 // about 2 MB: several times the bound
	var want bytes.Buffer
	done := make(chan error, 1)
	go func() {
		for i := range n {
			msg := bytes.Repeat([]byte{byte(i)}, size)
			if err := s.write(msg); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range n {
		want.Write(bytes.Repeat([]byte{byte(i)}, size))
	}
	close(w.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.data.Bytes(), want.Bytes()) {
		t.Fatalf("wrote %d bytes, want %d in order", w.data.Len(), want.Len())
	}
	for _, n := range w.writes {
		if n > maxQueuedBytes {
			t.Fatalf("a write of %d bytes: the queue outgrew its bound of %d", n, maxQueuedBytes)
		}
	}
	if w.flushes == 0 || w.flushes >= n/10 {
		t.Fatalf("%d flushes for %d messages", w.flushes, n)
	}
}

// A failed write fails the following ones, releases a writer waiting for
// room, and is what close reports.
func TestStreamWriterWriteError(t *testing.T) {
	w := &gateWriter{gate: make(chan struct{}), failWith: errors.New("connection reset")}
	s := newStreamWriter(context.Background(), context.Background(), w)
	if err := s.write(make([]byte, maxQueuedBytes)); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() {
		var err error
		for err == nil { // fills the queue, then waits for room that never comes
			err = s.write(make([]byte, 1024))
		}
		blocked <- err
	}()
	close(w.gate)
	if err := <-blocked; CodeOf(err) != CodeCanceled {
		t.Fatalf("write after the failure: %v", err)
	}
	if err := s.close(); CodeOf(err) != CodeCanceled {
		t.Fatalf("close: %v", err)
	}
}

func TestPayloadBodyGetBodyCopies(t *testing.T) {
	buf := getBuffer()
	buf.WriteString("retry me")
	body := newPayloadBody(buf)
	rc, err := body.getBody()
	if err != nil {
		t.Fatal(err)
	}
	_ = body.Close()
	body.release() // the original buffer may be reused now
	got := make([]byte, 32)
	n, _ := rc.Read(got)
	if string(got[:n]) != "retry me" {
		t.Fatalf("retried body %q", got[:n])
	}
}

// afterFuncCtx is a request context that implements AfterFunc, as
// transport-h2's does, and counts the functions registered with it.
type afterFuncCtx struct {
	context.Context
	registered int
	afters     []func()
}

func (c *afterFuncCtx) AfterFunc(f func()) func() bool {
	c.registered++
	c.afters = append(c.afters, f)
	return func() bool { return true }
}

// A streaming call whose context only adds values to the request's follows
// it through the request context's own AfterFunc, with no goroutine of
// package context's; one with a deadline of its own goes through package
// context.
func TestStreamWriterFollowsRequestContextAfterFunc(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := &afterFuncCtx{Context: parent}
	ctx := context.WithValue(req, struct{}{}, "call info")
	s := newStreamWriter(ctx, req, &gateWriter{gate: make(chan struct{})})
	if req.registered != 1 {
		t.Fatalf("%d functions registered with the request context, want 1", req.registered)
	}
	// Calling it is the request context ending: the writer aborts.
	req.afters[0]()
	<-s.aborted
	if err := s.write([]byte("x")); err == nil {
		t.Error("write after the context ended succeeded")
	}
	_ = s.close()

	req2 := &afterFuncCtx{Context: parent}
	tctx, tcancel := context.WithTimeout(req2, time.Hour)
	defer tcancel()
	before := req2.registered
	s2 := newStreamWriter(tctx, req2, &gateWriter{gate: make(chan struct{})})
	defer s2.close()
	if req2.registered != before {
		t.Fatal("the writer registered with the request context for a call with a deadline of its own")
	}
	tcancel()
	<-s2.aborted // package context ran abort when the deadline's context ended
}

package rpc

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxQueuedBytes bounds what a streaming handler may queue ahead of the
// network before Send blocks.
const maxQueuedBytes = 256 << 10

// abortGrace is how long a stream whose call has ended (deadline, or
// cancellation) still gets to write what is queued, such as the final
// status, before its writes are cut: a peer that has stopped reading
// (granting no HTTP/2 window, leaving TCP buffers full) would otherwise hold
// the handler, its goroutines and buffers forever.
const abortGrace = time.Second

// streamWriter writes a handler's streaming response on a goroutine of its
// own and flushes only when its queue is empty: a lone message goes out at
// once, while a burst of messages shares writes and flushes instead of paying
// one flush (and, on HTTP/2, one frame and one goroutine hand-off) each.
//
// When the call's context ends, write returns its error at once, even while
// waiting for room, and the ResponseWriter's write deadline is set
// abortGrace ahead, which ends a write stuck on a peer that does not read
// (net/http resets the HTTP/2 stream, or fails the HTTP/1.1 connection).
//
// write may be called from one goroutine at a time; close waits for the
// queue to drain and must be called before the handler returns, because the
// ResponseWriter is unusable after that.
type streamWriter struct {
	w       http.ResponseWriter
	ctx     context.Context
	mu      sync.Mutex
	space   sync.Cond // signalled when the queue shrinks
	queue   []byte
	spare   []byte
	err     error // a write failed: everything fails from then on
	ctxErr  error // the call ended: write fails, final still queues
	closing bool
	writing atomic.Bool // run is in a Write or Flush
	wake    chan struct{}
	done    chan struct{}

	stopAbort func() bool   // stops the context.AfterFunc that calls abort
	aborted   chan struct{} // closed when abort has returned
}

// newStreamWriter returns a writer for w that follows ctx, the call's
// context, which derives from reqCtx, the request's.
func newStreamWriter(ctx, reqCtx context.Context, w http.ResponseWriter) *streamWriter {
	s := &streamWriter{w: w, ctx: ctx, wake: make(chan struct{}, 1), done: make(chan struct{}), aborted: make(chan struct{})}
	s.space.L = &s.mu
	s.stopAbort = afterFunc(ctx, reqCtx, s.abort)
	go s.run()
	return s
}

// afterFunc is context.AfterFunc(ctx, f) without the goroutine it would
// start for a call on a transport whose request context implements
// AfterFunc itself (transport-h2's does): the call's context adds values to
// the request's (its CallInfo, what gates add), which hides that method
// from package context, so context would watch ctx from a goroutine of its
// own. A context that shares reqCtx's Done channel ends exactly when reqCtx
// does, so f is registered with reqCtx directly; a call with a deadline of
// its own (another Done channel) goes through package context as before.
func afterFunc(ctx, reqCtx context.Context, f func()) (stop func() bool) {
	if a, ok := reqCtx.(interface{ AfterFunc(func()) func() bool }); ok && ctx.Done() == reqCtx.Done() {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(ctx, f)
}

// abort runs when the call's context ends.
func (s *streamWriter) abort() {
	defer close(s.aborted)
	s.mu.Lock()
	s.ctxErr = asError(s.ctx.Err())
	s.space.Broadcast()
	s.mu.Unlock()
	_ = http.NewResponseController(s.w).SetWriteDeadline(time.Now().Add(abortGrace))
}

// write queues p. It returns the error of an earlier failed write, or the
// call's error once its context has ended.
func (s *streamWriter) write(p []byte) error {
	return s.enqueue(p, false)
}

// final queues the response's last bytes (the status), which go out even
// after the call's context has ended, within abortGrace.
func (s *streamWriter) final(p []byte) error {
	return s.enqueue(p, true)
}

func (s *streamWriter) enqueue(p []byte, final bool) error {
	s.mu.Lock()
	for s.err == nil && (final || s.ctxErr == nil) && len(s.queue) > 0 && len(s.queue)+len(p) > maxQueuedBytes {
		s.space.Wait()
	}
	err := s.err
	if err == nil && !final {
		err = s.ctxErr
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.queue = append(s.queue, p...)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// close drains the queue, flushes, and stops the goroutine. It returns the
// first write error.
func (s *streamWriter) close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.done
	if !s.stopAbort() {
		// abort has started: the ResponseWriter must not be touched once
		// the handler has returned, so wait for it.
		<-s.aborted
	}
	return s.err
}

// abandon stops the writer at once, for a handler that panicked: what is
// queued is dropped, a write in progress is cut short by a write deadline
// in the past, and it returns once the goroutine has stopped, so that
// nothing touches the ResponseWriter while the server takes the response
// back (net/http resets the stream or closes the connection).
func (s *streamWriter) abandon() {
	s.mu.Lock()
	s.closing = true
	s.queue = nil
	if s.err == nil {
		s.err = errorf(CodeInternal, "the handler panicked")
	}
	s.space.Broadcast()
	s.mu.Unlock()
	if s.writing.Load() {
		_ = http.NewResponseController(s.w).SetWriteDeadline(time.Now())
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.done
	if !s.stopAbort() {
		<-s.aborted
	}
}

func (s *streamWriter) run() {
	defer close(s.done)
	flusher, _ := s.w.(http.Flusher)
	for range s.wake {
		for {
			s.mu.Lock()
			data := s.queue
			if len(data) > 0 {
				// Swap only when taking something: swapping an empty queue
				// would leave queue and spare on the same array.
				s.queue = s.spare[:0]
			}
			closing := s.closing
			if s.err != nil {
				// abandoned: write nothing more.
				s.mu.Unlock()
				return
			}
			s.writing.Store(len(data) > 0)
			s.mu.Unlock()
			if len(data) == 0 {
				if closing {
					return
				}
				break
			}
			_, err := s.w.Write(data)
			s.mu.Lock()
			s.spare = data
			if err != nil && s.err == nil {
				s.err = errorf(CodeCanceled, "write response: "+err.Error())
			}
			empty := len(s.queue) == 0
			failed := s.err != nil
			flush := empty && flusher != nil && !failed
			s.writing.Store(flush)
			s.space.Broadcast()
			s.mu.Unlock()
			if failed {
				s.drop()
				return
			}
			if flush {
				flusher.Flush()
				s.writing.Store(false)
			}
		}
	}
}

// drop discards what is queued after a write error and keeps waking writers
// until close.
func (s *streamWriter) drop() {
	s.mu.Lock()
	s.queue = nil
	s.space.Broadcast()
	s.mu.Unlock()
}

package rpc

import (
	"net/http"
	"sync"
)

// maxQueuedBytes bounds what a streaming handler may queue ahead of the
// network before Send blocks.
const maxQueuedBytes = 256 << 10

// streamWriter writes a handler's streaming response on a goroutine of its
// own and flushes only when its queue is empty: a lone message goes out at
// once, while a burst of messages shares writes and flushes instead of paying
// one flush (and, on HTTP/2, one frame and one goroutine hand-off) each.
//
// write may be called from one goroutine at a time; close waits for the
// queue to drain and must be called before the handler returns, because the
// ResponseWriter is unusable after that.
type streamWriter struct {
	w       http.ResponseWriter
	mu      sync.Mutex
	space   sync.Cond // signalled when the queue shrinks
	queue   []byte
	spare   []byte
	err     error
	closing bool
	wake    chan struct{}
	done    chan struct{}
}

func newStreamWriter(w http.ResponseWriter) *streamWriter {
	s := &streamWriter{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.space.L = &s.mu
	go s.run()
	return s
}

// write queues p. It returns the error of an earlier failed write.
func (s *streamWriter) write(p []byte) error {
	s.mu.Lock()
	for s.err == nil && len(s.queue) > 0 && len(s.queue)+len(p) > maxQueuedBytes {
		s.space.Wait()
	}
	if s.err != nil {
		err := s.err
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
	return s.err
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
			s.space.Broadcast()
			s.mu.Unlock()
			if failed {
				s.drop()
				return
			}
			if empty && flusher != nil {
				flusher.Flush()
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

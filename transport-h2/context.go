package h2

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// streamContext is a request's context: it lives inside the stream (no
// allocation per request, no lock shared by the connection's streams) and
// is cancelled when the client resets the stream, the connection closes or
// the handler returns. It implements AfterFunc, so contexts derived from it
// with the context package need no goroutine to follow it.
type streamContext struct {
	parent   context.Context
	canceled atomic.Bool
	mu       sync.Mutex
	done     chan struct{}
	afters   []afterFunc
	nextID   uint64
}

type afterFunc struct {
	id uint64
	f  func()
}

// closedChan is the Done channel of contexts cancelled before anyone asked
// for one.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *streamContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *streamContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.canceled.Load() {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *streamContext) Err() error {
	if c.canceled.Load() {
		return context.Canceled
	}
	return nil
}

func (c *streamContext) Value(key any) any { return c.parent.Value(key) }

// AfterFunc arranges for f to run once the context is cancelled; stop
// unregisters it and reports whether it did so before f ran.
func (c *streamContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.canceled.Load() {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.nextID++
	id := c.nextID
	c.afters = append(c.afters, afterFunc{id: id, f: f})
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, a := range c.afters {
			if a.id == id {
				c.afters = append(c.afters[:i], c.afters[i+1:]...)
				return true
			}
		}
		return false
	}
}

func (c *streamContext) String() string { return "h2.requestContext" }

// cancel cancels the context, once.
func (c *streamContext) cancel(error) {
	if c.canceled.Load() {
		return
	}
	c.mu.Lock()
	if c.canceled.Swap(true) {
		c.mu.Unlock()
		return
	}
	if c.done != nil {
		close(c.done)
	}
	afters := c.afters
	c.afters = nil
	c.mu.Unlock()
	for _, a := range afters {
		a.f()
	}
}

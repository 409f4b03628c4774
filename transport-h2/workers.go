package h2

import "sync"

// workers runs handlers on goroutines that are kept, once a handler has
// returned, for the next stream: starting a goroutine per request costs a
// new stack, and a deep handler grows it again every time. Idle workers wait
// on a channel of their own, newest first, so that a warm stack (and its
// cache lines) serves the next request. A Server has one pool for all its
// connections.
type workers struct {
	mu   sync.Mutex
	idle []chan *serverStream
	stop bool
}

// maxIdleWorkers bounds the goroutines kept waiting for work; more end
// when their handler returns.
const maxIdleWorkers = 256

// run serves st on an idle worker, or on a new one.
func (w *workers) run(st *serverStream) {
	w.mu.Lock()
	if n := len(w.idle); n > 0 {
		ch := w.idle[n-1]
		w.idle[n-1] = nil
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		ch <- st // buffered: never blocks
		return
	}
	w.mu.Unlock()
	go w.work(st)
}

// work is a worker goroutine: it serves st, then waits for the next stream
// until the pool stops or has enough idle workers.
func (w *workers) work(st *serverStream) {
	var ch chan *serverStream
	for st != nil {
		st.sc.runHandler(st)
		w.mu.Lock()
		if w.stop || len(w.idle) >= maxIdleWorkers {
			w.mu.Unlock()
			return
		}
		if ch == nil {
			ch = make(chan *serverStream, 1)
		}
		w.idle = append(w.idle, ch)
		w.mu.Unlock()
		st = <-ch
	}
}

// close ends the idle workers, and the busy ones when their handler
// returns.
func (w *workers) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stop = true
	for i, ch := range w.idle {
		ch <- nil
		w.idle[i] = nil
	}
	w.idle = nil
}

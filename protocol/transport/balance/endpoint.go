package balance

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// endpoint is one replica: its backend, its load and its health.
//
// Health is a small state machine. Healthy: until is 0. Ejected: until is
// a time in the future. Half-open: until has passed, and the first picker
// to claim the probe slot sends one request. Every ejection bumps epoch; a
// lease remembers the epoch it was taken in, and outcomes of leases from
// an older epoch are ignored, so the dozens of calls that fail together
// when a replica dies eject it once, not dozens of times.
type endpoint struct {
	addr    string
	backend Backend

	inflight atomic.Int64
	epoch    atomic.Uint64
	until    atomic.Int64 // unix nanoseconds; 0 when healthy
	probing  atomic.Bool  // a probe request holds the slot
	removed  atomic.Bool  // no longer resolved: drain, then close idle connections

	mu        sync.Mutex // serialises state changes
	ejections int        // consecutive ejections, for the backoff
}

// state says whether ep may take a request at now (unix nanoseconds):
// usable for a healthy replica, probe when its ejection has passed.
type state uint8

const (
	usable state = iota
	probe
	ejected
)

func (ep *endpoint) state(now int64) state {
	switch u := ep.until.Load(); {
	case u == 0:
		return usable
	case now >= u:
		return probe
	}
	return ejected
}

// lease is one request's hold on an endpoint.
type lease struct {
	ep    *endpoint
	epoch uint64
	probe bool
}

// take starts a request on ep. The epoch is read before the health check
// in pick, so an ejection racing with the pick makes the lease stale
// rather than wrongly current.
func (ep *endpoint) take(epoch uint64, probe bool) lease {
	ep.inflight.Add(1)
	return lease{ep: ep, epoch: epoch, probe: probe}
}

// succeed records that l's exchange got a response: the replica works.
func (l lease) succeed() {
	ep := l.ep
	if l.probe {
		defer ep.probing.Store(false)
	} else if ep.until.Load() == 0 {
		return // healthy already: the common case takes no lock
	}
	ep.mu.Lock()
	if ep.epoch.Load() == l.epoch {
		ep.until.Store(0)
		ep.ejections = 0
	}
	ep.mu.Unlock()
}

// fail records that l's exchange failed at the transport: eject the
// replica, for longer after each consecutive ejection.
func (l lease) fail(now time.Time, base, limit time.Duration) {
	ep := l.ep
	if l.probe {
		defer ep.probing.Store(false)
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.epoch.Load() != l.epoch {
		return // already ejected since this lease was taken
	}
	ep.ejections++
	ep.until.Store(now.Add(backoff(ep.ejections, base, limit)).UnixNano())
	ep.epoch.Add(1)
}

// abandon ends a lease whose outcome says nothing about the replica (the
// caller cancelled): only the probe slot is given back.
func (l lease) abandon() {
	if l.probe {
		l.ep.probing.Store(false)
	}
}

// release ends the request's load on the endpoint; the last request on a
// removed endpoint closes its idle connections.
func (l lease) release() {
	if l.ep.inflight.Add(-1) == 0 && l.ep.removed.Load() {
		l.ep.backend.CloseIdleConnections()
	}
}

// remove takes ep out of service after a re-resolution dropped it.
func (ep *endpoint) remove() {
	ep.removed.Store(true)
	if ep.inflight.Load() == 0 {
		ep.backend.CloseIdleConnections()
	}
}

// backoff is the n-th consecutive ejection's length: base doubled n-1
// times, at most limit, spread by ±20% so that clients ejecting together do
// not probe together.
func backoff(n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

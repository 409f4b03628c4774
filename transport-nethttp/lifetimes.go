package nethttp

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// This file gives servers Config.MaxConnectionAge and
// MaxConnectionAgeGrace as far as net/http allows. net/http has no way to
// send GOAWAY on one HTTP/2 connection from outside a handler, but it
// turns a response header "Connection: close" into exactly that (and, on
// HTTP/1.1, into closing the connection after the response). So:
//
//   - a connection older than MaxConnectionAge (plus up to 10% jitter) is
//     "aged": every response that starts on it carries Connection: close,
//     so the next call on it makes HTTP/2 send GOAWAY (NO_ERROR) and close
//     once its streams end, and HTTP/1.1 close after that response;
//   - MaxConnectionAgeGrace after aging, a connection still open is closed
//     under whatever it carries. Without GOAWAY when no call came since the
//     age, which net/http cannot send unprompted: a client sending a call
//     at that very moment sees the connection lost, a failure it may retry.
//     Zero means no limit: an aged connection that gets no further call
//     stays until IdleTimeout closes it (HTTP/2: with GOAWAY).
//
// Closing an aged connection as soon as it is idle would be faster but
// races every client that reuses it at that moment; the next call's
// GOAWAY does not.

// ageJitter is the largest fraction of MaxConnectionAge added at random
// to each connection's age, so that connections opened together do not
// all age out together.
const ageJitter = 0.1

// lifetimes tracks a server's connections for MaxConnectionAge.
type lifetimes struct {
	maxAge, grace time.Duration

	mu    sync.Mutex
	conns map[net.Conn]*connLife
}

// connLife is one connection's lifetime state, guarded by lifetimes.mu.
type connLife struct {
	nc     net.Conn
	aged   bool
	timers []*time.Timer
}

func newLifetimes(maxAge, grace time.Duration) *lifetimes {
	return &lifetimes{maxAge: maxAge, grace: grace, conns: make(map[net.Conn]*connLife)}
}

// install hooks the lifetimes into srv and returns the handler that marks
// the responses of aged connections.
func (l *lifetimes) install(srv *http.Server, h http.Handler) http.Handler {
	next := srv.ConnState
	srv.ConnState = func(nc net.Conn, state http.ConnState) {
		l.connState(nc, state)
		if next != nil {
			next(nc, state)
		}
	}
	nextCtx := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, nc net.Conn) context.Context {
		if nextCtx != nil {
			ctx = nextCtx(ctx, nc)
		}
		return context.WithValue(ctx, connKey{}, nc)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.isAged(r.Context()) {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// connKey keys the request's connection in its context.
type connKey struct{}

func (l *lifetimes) connState(nc net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.conns[nc]
	switch state {
	case http.StateNew:
		if c != nil {
			return
		}
		c = &connLife{nc: nc}
		l.conns[nc] = c
		age := l.maxAge + time.Duration(rand.Float64()*ageJitter*float64(l.maxAge))
		c.timers = append(c.timers, time.AfterFunc(age, func() { l.age(c) }))
	case http.StateHijacked, http.StateClosed:
		if c != nil {
			for _, t := range c.timers {
				t.Stop()
			}
			delete(l.conns, nc)
		}
	}
}

// age marks c aged and starts its grace.
func (l *lifetimes) age(c *connLife) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[c.nc] != c {
		return // closed meanwhile
	}
	c.aged = true
	if l.grace > 0 {
		c.timers = append(c.timers, time.AfterFunc(l.grace, func() { _ = c.nc.Close() }))
	}
}

func (l *lifetimes) isAged(ctx context.Context) bool {
	nc, _ := ctx.Value(connKey{}).(net.Conn)
	if nc == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.conns[nc]
	return c != nil && c.aged
}

package h3

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// This file gives servers Config.MaxConnectionAge and
// MaxConnectionAgeGrace as far as quic-go allows. quic-go's HTTP/3 server
// sends GOAWAY only when the whole server shuts down, so a connection that
// ages says "go away" the way HTTP/3 allows per request: every request
// that starts on it after the age is refused with H3_REQUEST_REJECTED,
// which promises the client it was not processed (transport.ErrNotProcessed;
// quic-go's client, ours included, sends it again on a new connection).
// With every new request going elsewhere, the connection falls idle once
// its calls end, and the server's IdleTimeout closes it; MaxConnectionAgeGrace
// after the age it is closed (CONNECTION_CLOSE, H3_NO_ERROR) under
// whatever it still carries. It is not closed the moment its last handler
// returns: quic-go still writes the end of that response after it.

// ageJitter is the largest fraction of MaxConnectionAge added at random
// to each connection's age.
const ageJitter = 0.1

// lifetimes tracks a server's connections for MaxConnectionAge.
type lifetimes struct {
	maxAge, grace time.Duration

	mu    sync.Mutex
	conns map[*quic.Conn]*connLife
}

// connLife is one connection's lifetime state, guarded by lifetimes.mu.
type connLife struct {
	conn   *quic.Conn
	aged   bool
	timers []*time.Timer
}

// connKey keys the request's QUIC connection in its context.
type connKey struct{}

func newLifetimes(maxAge, grace time.Duration) *lifetimes {
	return &lifetimes{maxAge: maxAge, grace: grace, conns: make(map[*quic.Conn]*connLife)}
}

// install hooks the lifetimes into srv and returns the handler that
// refuses requests on aged connections and closes them when done.
func (l *lifetimes) install(srv *http3.Server, h http.Handler) http.Handler {
	next := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c *quic.Conn) context.Context {
		if next != nil {
			ctx = next(ctx, c)
		}
		l.track(c)
		return context.WithValue(ctx, connKey{}, c)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(*quic.Conn)
		if l.aged(c) {
			refuse(w)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (l *lifetimes) track(c *quic.Conn) {
	life := &connLife{conn: c}
	age := l.maxAge + time.Duration(rand.Float64()*ageJitter*float64(l.maxAge))
	l.mu.Lock()
	l.conns[c] = life
	life.timers = append(life.timers, time.AfterFunc(age, func() { l.age(life) }))
	l.mu.Unlock()
	context.AfterFunc(c.Context(), func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, t := range life.timers {
			t.Stop()
		}
		delete(l.conns, c)
	})
}

// aged reports whether c is past its age.
func (l *lifetimes) aged(c *quic.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	life := l.conns[c]
	return life != nil && life.aged
}

func (l *lifetimes) age(life *connLife) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[life.conn] != life {
		return
	}
	life.aged = true
	if l.grace > 0 {
		life.timers = append(life.timers, time.AfterFunc(l.grace, func() { closeAged(life.conn) }))
	}
}

func closeAged(c *quic.Conn) {
	_ = c.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "max connection age")
}

// refuse rejects a request unprocessed: H3_REQUEST_REJECTED in both
// directions.
func refuse(w http.ResponseWriter) {
	streamer, ok := w.(http3.HTTPStreamer)
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	str, err := streamer.HTTPStream()
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	str.CancelRead(quic.StreamErrorCode(http3.ErrCodeRequestRejected))
	str.CancelWrite(quic.StreamErrorCode(http3.ErrCodeRequestRejected))
}

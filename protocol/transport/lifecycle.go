package transport

import (
	"errors"
	"net/http"
	"sync"
)

// ErrServerClosed is returned by Start and Serve of a server that was shut
// down or closed. It is http.ErrServerClosed, so code written for net/http
// recognises it.
var ErrServerClosed = http.ErrServerClosed

// ServerState is where a server is in its life.
type ServerState uint8

// The states of a [Lifecycle], in the only order they are entered.
const (
	StateNew     ServerState = iota // built, not listening
	StateServing                    // listening and serving (Start succeeded)
	StateStopped                    // Shutdown or Close has begun; final
)

// String returns "new", "serving" or "stopped".
func (s ServerState) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateServing:
		return "serving"
	}
	return "stopped"
}

// Lifecycle is the state machine behind [Server]'s Start, Serve, Shutdown
// and Close, the same for every transport, so that every server answers
// them the same way: Start binds once and serves in the background; Serve
// starts if needed and blocks until the server stops, returning nil when
// Shutdown or Close stopped it (once they have finished) and the error
// otherwise; Start and Serve fail with ErrServerClosed once stopped, and
// Start with an error naming the server when it was already started.
//
// A transport's Server embeds (or holds) a Lifecycle, calls Start and
// Serve with its listen function, Stop when Shutdown or Close begins and
// Finish when they are done. The zero value is a new server; Name, set
// before first use, names the server in errors. A Lifecycle is safe for
// concurrent use.
type Lifecycle struct {
	// Name names the server in errors, such as "h2c server".
	Name string

	mu        sync.Mutex
	state     ServerState
	serveDone chan struct{} // closed when the serve function returns
	serveErr  error
	finishOne sync.Once
	finished  chan struct{} // closed by Finish
}

// Listener binds a server's socket and returns the function that serves on
// it until the server stops (the accept loop), or the error that kept it
// from binding, such as a [ListenError]. It runs with the Lifecycle's lock
// held and must not call the Lifecycle's methods.
type Listener func() (serve func() error, err error)

// Start runs listen and then its serve function in a goroutine of its own.
// It fails if the server was already started, or with ErrServerClosed once
// it is stopped.
func (l *Lifecycle) Start(listen Listener) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.startLocked(listen)
}

func (l *Lifecycle) startLocked(listen Listener) error {
	switch l.state {
	case StateServing:
		return errors.New(l.name() + " already started")
	case StateStopped:
		return ErrServerClosed
	}
	serve, err := listen()
	if err != nil {
		return err
	}
	l.state = StateServing
	done := make(chan struct{})
	l.serveDone = done
	go func() {
		err := serve()
		l.mu.Lock()
		l.serveErr = err
		l.mu.Unlock()
		close(done)
	}()
	return nil
}

// Serve starts the server with listen if it is new, then blocks until its
// serve function returns. It returns nil if the server was stopped (after
// Finish), the serve function's error otherwise, and ErrServerClosed for a
// server stopped before it started.
func (l *Lifecycle) Serve(listen Listener) error {
	l.mu.Lock()
	if l.state == StateNew {
		if err := l.startLocked(listen); err != nil {
			l.mu.Unlock()
			return err
		}
	}
	done := l.serveDone
	l.mu.Unlock()
	if done == nil {
		return ErrServerClosed
	}
	<-done
	l.mu.Lock()
	err, stopped := l.serveErr, l.state == StateStopped
	finished := l.finishedLocked()
	l.mu.Unlock()
	if stopped || errors.Is(err, ErrServerClosed) {
		<-finished
		return nil
	}
	return err
}

// Stop moves the server to StateStopped, running f (which may be nil)
// with the Lifecycle's lock held, and returns the state it was in. Shutdown
// and Close call it first; a connection accepted concurrently is either
// seen by f or refused by [Lifecycle.Active].
func (l *Lifecycle) Stop(f func(was ServerState)) ServerState {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := l.state
	l.state = StateStopped
	if f != nil {
		f(was)
	}
	return was
}

// Active runs f with the Lifecycle's lock held unless the server is
// stopped, and reports whether it ran: a server tracks a new connection
// this way, so that Stop's f sees every connection it must close.
func (l *Lifecycle) Active(f func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == StateStopped {
		return false
	}
	f()
	return true
}

// State returns the server's state.
func (l *Lifecycle) State() ServerState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// WaitServe waits for the serve function to return, if it was started.
func (l *Lifecycle) WaitServe() {
	l.mu.Lock()
	done := l.serveDone
	l.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Finish marks Shutdown or Close as done: Serve returns nil from then on.
// It may be called more than once.
func (l *Lifecycle) Finish() {
	l.mu.Lock()
	finished := l.finishedLocked()
	l.mu.Unlock()
	l.finishOne.Do(func() { close(finished) })
}

func (l *Lifecycle) finishedLocked() chan struct{} {
	if l.finished == nil {
		l.finished = make(chan struct{})
	}
	return l.finished
}

func (l *Lifecycle) name() string {
	if l.Name == "" {
		return "server"
	}
	return l.Name
}

package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// ListenError explains why server (such as "h2c server") could not listen
// on addr, in one line that names the server and what to do, and wraps the
// cause so that errors.Is finds syscall errors such as
// syscall.EADDRINUSE. Every transport reports listen failures through it.
func ListenError(server, addr string, err error) error {
	cause := err
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		cause = op.Err
		var sys *os.SyscallError
		if errors.As(cause, &sys) {
			cause = sys.Err
		}
	}
	hint := ""
	switch {
	case errors.Is(cause, syscall.EADDRINUSE):
		hint = " (another program, or another server of this one, holds the port: stop it or choose another port; port 0 picks a free one)"
	case errors.Is(cause, syscall.EACCES):
		hint = " (ports below 1024 need privileges: choose a port from 1024 up)"
	case errors.Is(cause, syscall.EADDRNOTAVAIL):
		hint = " (no network interface has that address: use 127.0.0.1, 0.0.0.0 or one of this machine's addresses)"
	case errors.Is(cause, syscall.EMFILE), errors.Is(cause, syscall.ENFILE):
		hint = " (out of file descriptors: raise the limit, ulimit -n, or close what leaks them)"
	}
	return fmt.Errorf("%s cannot listen on %s: %w%s", server, addr, cause, hint)
}

// Listen opens a TCP listener on addr for server (such as "h2c server"),
// with errors explained by [ListenError], and makes its Accept survive
// temporary failures (see [KeepAccepting]).
func Listen(server, addr string, logger *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, ListenError(server, addr, err)
	}
	return KeepAccepting(ln, server, logger), nil
}

// Accept backoff: the first wait after a temporary failure, and the
// longest.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// KeepAccepting returns ln with an Accept that does not fail for reasons
// that pass: out of file descriptors (EMFILE, ENFILE), out of buffers or
// memory (ENOBUFS, ENOMEM), a connection aborted before it was accepted
// (ECONNABORTED), and timeouts. It waits and tries again, from 5ms doubling
// up to 1s, until a connection comes or the listener is closed, and
// reports each episode once to logger (slog.Default if nil) as a warning,
// with the error and the server's name, and its end. So a moment of "too
// many open files" does not stop a server for good: it serves again as
// soon as descriptors free up. Any other error is returned as it is;
// after Close, Accept returns at once.
//
// A listener that already keeps accepting is returned as it is.
func KeepAccepting(ln net.Listener, server string, logger *slog.Logger) net.Listener {
	if _, ok := ln.(*keepAccepting); ok {
		return ln
	}
	k := &keepAccepting{Listener: ln, server: server, logger: logger}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	return k
}

type keepAccepting struct {
	net.Listener
	server string
	logger *slog.Logger

	ctx       context.Context // cancelled by Close, to cut a backoff short
	cancel    context.CancelFunc
	closeOnce sync.Once
	closeErr  error
}

func (k *keepAccepting) Accept() (net.Conn, error) {
	var delay time.Duration
	failures := 0
	for {
		c, err := k.Listener.Accept()
		if err == nil {
			if failures > 0 {
				k.log().Info("accepting connections again", "server", k.server, "failures", failures)
			}
			return c, nil
		}
		if k.ctx.Err() != nil {
			return nil, net.ErrClosed
		}
		if !temporary(err) {
			return nil, err
		}
		if failures == 0 {
			k.log().Warn("accepting a connection failed; retrying with backoff", "server", k.server, "error", err)
		}
		failures++
		delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-k.ctx.Done():
			t.Stop()
			return nil, net.ErrClosed
		}
	}
}

func (k *keepAccepting) Close() error {
	k.closeOnce.Do(func() {
		k.cancel()
		k.closeErr = k.Listener.Close()
	})
	return k.closeErr
}

func (k *keepAccepting) log() *slog.Logger {
	if k.logger != nil {
		return k.logger
	}
	return slog.Default()
}

// temporary reports whether an Accept error passes with time.
func temporary(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), errors.Is(err, syscall.ENOBUFS),
		errors.Is(err, syscall.ENOMEM), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EINTR):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

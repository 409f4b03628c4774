package transport_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

func TestListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = transport.Listen("h2c server", ln.Addr().String(), nil)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("%v: want EADDRINUSE", err)
	}
	want := "h2c server cannot listen on " + ln.Addr().String() + ": address already in use (another program"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%q, want it to start %q", err, want)
	}
}

// flakyListener fails its first accepts with err, then accepts.
type flakyListener struct {
	net.Listener
	fails int
	err   error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, l.err
	}
	return l.Listener.Accept()
}

func TestKeepAcceptingRetries(t *testing.T) {
	for _, cause := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		flaky := &flakyListener{Listener: ln, fails: 3, err: &net.OpError{Op: "accept", Net: "tcp", Err: cause}}
		k := transport.KeepAccepting(flaky, "test server", slog.New(slog.NewTextHandler(&logs, nil)))
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.Accept()
		if err != nil {
			t.Fatalf("%v: Accept = %v, want the connection after the failures", cause, err)
		}
		got.Close()
		c.Close()
		k.Close()
		if n := strings.Count(logs.String(), "accepting a connection failed"); n != 1 {
			t.Errorf("%v: %d failure lines, want one per episode:\n%s", cause, n, logs.String())
		}
		if !strings.Contains(logs.String(), "accepting connections again") || !strings.Contains(logs.String(), "failures=3") {
			t.Errorf("%v: no recovery line:\n%s", cause, logs.String())
		}
	}
}

func TestKeepAcceptingStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A permanent error is returned as it is.
	perm := errors.New("permanent")
	k := transport.KeepAccepting(&flakyListener{Listener: ln, fails: 1, err: perm}, "s", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := k.Accept(); err != perm {
		t.Errorf("Accept = %v, want the permanent error", err)
	}
	// Close cuts a backoff short.
	forever := &flakyListener{Listener: ln, fails: 1 << 30, err: &net.OpError{Op: "accept", Err: syscall.EMFILE}}
	k = transport.KeepAccepting(forever, "s", slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan error, 1)
	go func() {
		_, err := k.Accept()
		done <- err
	}()
	k.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(20 * time.Second): // only a hang fails here
		t.Fatal("Accept still waits after Close")
	}
	if transport.KeepAccepting(k, "s", nil) != k {
		t.Error("wrapped twice")
	}
}

func TestLifecycle(t *testing.T) {
	var l transport.Lifecycle
	l.Name = "test server"
	stop := make(chan struct{})
	listen := func() (func() error, error) {
		return func() error { <-stop; return net.ErrClosed }, nil
	}
	if err := l.Start(listen); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(listen); err == nil || !strings.Contains(err.Error(), "test server already started") {
		t.Errorf("second Start: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- l.Serve(listen) }()
	if was := l.Stop(nil); was != transport.StateServing {
		t.Errorf("Stop from %v", was)
	}
	close(stop)
	l.WaitServe()
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before Finish", err)
	default:
	}
	l.Finish()
	if err := <-served; err != nil {
		t.Errorf("Serve after Shutdown: %v, want nil", err)
	}
	if err := l.Start(listen); !errors.Is(err, transport.ErrServerClosed) {
		t.Errorf("Start after Stop: %v", err)
	}
	if l.Active(func() { t.Error("ran while stopped") }) {
		t.Error("Active while stopped")
	}

	// A serve function that fails on its own: Serve returns its error.
	var l2 transport.Lifecycle
	boom := errors.New("boom")
	if err := l2.Serve(func() (func() error, error) { return func() error { return boom }, nil }); err != boom {
		t.Errorf("Serve = %v, want the serve error", err)
	}
	// A listen error comes back from Start and leaves the server new.
	var l3 transport.Lifecycle
	if err := l3.Start(func() (func() error, error) { return nil, boom }); err != boom || l3.State() != transport.StateNew {
		t.Errorf("Start = %v, state %v", err, l3.State())
	}
	// Stopped before it started.
	var l4 transport.Lifecycle
	l4.Stop(nil)
	if err := l4.Serve(listen); !errors.Is(err, transport.ErrServerClosed) {
		t.Errorf("Serve of a stopped server: %v", err)
	}
}

func TestServerErrorLogForNetHTTP(t *testing.T) {
	_ = http.ErrServerClosed // transport.ErrServerClosed is net/http's
	if transport.ErrServerClosed != http.ErrServerClosed {
		t.Error("ErrServerClosed is not http.ErrServerClosed")
	}
}

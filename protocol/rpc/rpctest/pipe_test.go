package rpctest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func newTestPair(t *testing.T) (a, b *memConn) {
	t.Helper()
	a, b = newMemConnPair("client:1", "server:80")
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}

func TestPipeLargeTransfer(t *testing.T) {
	a, b := newTestPair(t)
	// More than a buffer's worth, so the writer must wait for the reader.
	want := bytes.Repeat([]byte("0123456789abcdef"), 3*pipeBufferSize/16+7)
	writeErr := make(chan error, 1)
	go func() {
		n, err := a.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		if err == nil {
			err = a.Close()
		}
		writeErr <- err
	}()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want %d identical ones", len(got), len(want))
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
}

func TestPipeFullDuplex(t *testing.T) {
	a, b := newTestPair(t)
	// Both ends write a full buffer before either reads: only works if the
	// directions are independent.
	chunk := bytes.Repeat([]byte{'x'}, pipeBufferSize)
	for _, c := range []*memConn{a, b} {
		if n, err := c.Write(chunk); err != nil || n != len(chunk) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	for _, c := range []*memConn{a, b} {
		buf := make([]byte, len(chunk))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPipeCloseSemantics(t *testing.T) {
	a, b := newTestPair(t)
	if _, err := a.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close() // idempotent

	// The peer reads what was written, then EOF.
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "last words" {
		t.Errorf("peer read %q, %v", got, err)
	}
	// The peer cannot write to a closed end.
	if _, err := b.Write([]byte("hello?")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("write to closed peer: %v", err)
	}
	// The closed end reports net.ErrClosed.
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

func TestPipeCloseWrite(t *testing.T) {
	a, b := newTestPair(t)
	a.Write([]byte("request"))
	a.CloseWrite()
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "request" {
		t.Fatalf("read %q, %v", got, err)
	}
	// The other direction still works.
	b.Write([]byte("response"))
	buf := make([]byte, len("response"))
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "response" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestPipeCloseUnblocksReader(t *testing.T) {
	a, _ := newTestPair(t)
	done := make(chan error, 1)
	go func() {
		_, err := a.Read(make([]byte, 1))
		done <- err
	}()
	a.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("blocked Read after Close: %v", err)
	}
}

func TestPipeDeadlines(t *testing.T) {
	a, b := newTestPair(t)

	// A deadline in the past fails at once, with a timeout net.Error.
	a.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := a.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past deadline: %v", err)
	}

	// Clearing it lets reads succeed again.
	a.SetReadDeadline(time.Time{})
	b.Write([]byte("y"))
	if _, err := a.Read(make([]byte, 1)); err != nil {
		t.Fatalf("read after clearing the deadline: %v", err)
	}

	// Moving the deadline into the past interrupts a blocked read: net/http
	// does this to stop its background read.
	done := make(chan error, 1)
	go func() {
		_, err := a.Read(make([]byte, 1))
		done <- err
	}()
	a.SetReadDeadline(time.Unix(1, 0))
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("interrupted read: %v", err)
	}

	// A deadline that expires while waiting ends the wait. Whether it
	// passes before Read starts waiting or during the wait, the outcome is
	// the same: nothing here races with the timer.
	a.SetReadDeadline(time.Now().Add(time.Millisecond))
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read until deadline: %v", err)
	}

	// A blocked write is interrupted the same way. The buffer is filled
	// first, with no deadline, so the deadline write can make no progress
	// however late it runs. (Writing the filler under the deadline made the
	// test depend on the scheduler: a 1 ms deadline could pass before the
	// first byte went in, and it failed 5 runs in 300 on a loaded machine.)
	if n, err := a.Write(make([]byte, pipeBufferSize)); err != nil || n != pipeBufferSize {
		t.Fatalf("fill the buffer: %d, %v", n, err)
	}
	a.SetWriteDeadline(time.Now().Add(time.Millisecond))
	n, err := a.Write(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != 0 {
		t.Fatalf("write to a full buffer: %d, %v", n, err)
	}

	// SetDeadline sets both; a far deadline changes nothing.
	a.SetDeadline(time.Now().Add(time.Hour))
	a.SetDeadline(time.Time{})
}

func TestListener(t *testing.T) {
	ln := newMemListener("srv.test")
	if ln.Addr().String() != "srv.test:80" || ln.Addr().Network() != "memory" {
		t.Errorf("Addr = %s/%s", ln.Addr().Network(), ln.Addr())
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	c, err := ln.dial(context.Background(), "tcp", "srv.test:80")
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if c.RemoteAddr() != s.LocalAddr() || c.LocalAddr() != s.RemoteAddr() {
		t.Errorf("addresses do not match: %v-%v, %v-%v", c.LocalAddr(), c.RemoteAddr(), s.LocalAddr(), s.RemoteAddr())
	}
	if _, _, err := net.SplitHostPort(c.LocalAddr().String()); err != nil {
		t.Errorf("client address %q: %v", c.LocalAddr(), err)
	}
	c.Close()
	s.Close()

	if _, err := ln.dial(context.Background(), "tcp", "elsewhere:80"); err == nil {
		t.Error("dial to another address succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ln.dial(ctx, "tcp", "srv.test:80"); !errors.Is(err, context.Canceled) {
		t.Errorf("dial with canceled context: %v", err)
	}
	ln.Close()
	ln.Close()
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
	if _, err := ln.dial(context.Background(), "tcp", "srv.test:80"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("dial after Close: %v", err)
	}
}

package rpc

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestBodyPipeDeliversInOrder(t *testing.T) {
	p := newBodyPipe()
	var want bytes.Buffer
	go func() {
		for i := range 10_000 {
			msg := bytes.Repeat([]byte{byte(i)}, i%300)
			if err := p.write(msg); err != nil {
				t.Error(err)
				return
			}
		}
		p.closeWrite(nil)
	}()
	for i := range 10_000 {
		want.Write(bytes.Repeat([]byte{byte(i)}, i%300))
	}
	got, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got %d bytes, want %d", len(got), want.Len())
	}
}

func TestBodyPipeBlocksAtBoundAndFailsAfterReaderClose(t *testing.T) {
	p := newBodyPipe()
	if err := p.write(make([]byte, maxPipeBytes)); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error)
	go func() { blocked <- p.write([]byte("more")) }()
	// The reader closing (the transport giving up) must release the writer.
	_ = p.Close()
	if err := <-blocked; !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("blocked write returned %v", err)
	}
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("read after close: %v", err)
	}
}

func TestBodyPipeCloseWithError(t *testing.T) {
	p := newBodyPipe()
	_ = p.write([]byte("abc"))
	boom := errors.New("boom")
	p.closeWrite(boom)
	b := make([]byte, 10)
	if n, err := p.Read(b); n != 3 || err != nil {
		t.Fatalf("drain: %d %v", n, err)
	}
	if _, err := p.Read(b); !errors.Is(err, boom) {
		t.Fatalf("after drain: %v", err)
	}
	if err := p.write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("write after closeWrite: %v", err)
	}
}

// A retry (GetBody) starts over from the first byte while the pipe keeps
// what was read; the first reader fails from then on and its late Close
// does not end the pipe. Once the response is in, nothing is kept.
func TestBodyPipeRewind(t *testing.T) {
	p := newBodyPipe()
	p.allowRewind()
	_ = p.write([]byte("abc"))
	b := make([]byte, 2)
	if n, _ := p.Read(b); string(b[:n]) != "ab" {
		t.Fatalf("first read %q", b[:n])
	}
	_ = p.Close() // the refused attempt gives the body back
	if err := p.write([]byte("d")); err != nil {
		t.Fatalf("write after the first reader closed: %v", err)
	}
	r, err := p.rewind()
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Close() // late, from the first attempt: no effect
	if _, err := p.Read(b); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("the first reader still reads: %v", err)
	}
	p.closeWrite(nil)
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "abcd" {
		t.Fatalf("rewound reader: %q %v", got, err)
	}
	p.stopRewind()
	if _, err := p.rewind(); err == nil {
		t.Fatal("rewind after the response arrived")
	}
	// Past maxRewindBytes nothing is kept either.
	q := newBodyPipe()
	q.allowRewind()
	_ = q.write(make([]byte, maxRewindBytes+1))
	if _, err := q.rewind(); err == nil {
		t.Fatal("rewind past the bound")
	}
}

// A reader that always leaves bytes queued (a transport reading in smaller
// pieces than a fast caller writes) must not make the buffer grow with
// everything ever written: it stays within a small multiple of the bound.
// Before the buffer was compacted, it grew to the whole 8 MiB written.
func TestBodyPipeBufferStaysBoundedWhenNeverDrained(t *testing.T) {
	p := newBodyPipe()
	chunk := make([]byte, 1024)
	next, want := byte(0), byte(0)
	write := func() {
		for i := range chunk {
			chunk[i] = next
			next++
		}
		if err := p.write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 { // 100 KiB queued ahead of the reader, under the bound
		write()
	}
	got := make([]byte, 1024)
	for range 8 << 10 { // 8 MiB through the pipe
		write()
		n, err := p.Read(got)
		if err != nil || n != len(got) {
			t.Fatalf("read %d, %v", n, err)
		}
		for _, b := range got[:n] {
			if b != want {
				t.Fatalf("byte %d, want %d", b, want)
			}
			want++
		}
	}
	if c := cap(p.buf); c > 2*maxPipeBytes {
		t.Fatalf("buffer capacity %d after 8 MiB with about 100 KiB queued; want at most %d", c, 2*maxPipeBytes)
	}
}

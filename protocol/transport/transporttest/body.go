package transporttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BodyConfig is what BodyContract needs of a transport.
type BodyConfig struct {
	// Serve serves h on a new server of the transport and returns its base
	// URL; the server stops with the test.
	Serve func(t testing.TB, h http.Handler) string
	// Client is a client of the transport, trusting the server's
	// certificate if it has one.
	Client interface {
		Do(*http.Request) (*http.Response, error)
	}
	// FullDuplex says the transport streams a request body while the
	// response arrives (HTTP/2, HTTP/3); HTTP/1.1 transports leave it off.
	FullDuplex bool
	// Scheme is "http" or "https", for the URL of a server that is not
	// there.
	Scheme string
}

// bodyBound bounds each wait in BodyContract; it only turns a hang into a
// failure, and is generous because the machine may be busy.
const bodyBound = 20 * time.Second

// BodyContract checks that a transport's client keeps the request body
// contract of package transport: in-memory bodies (with a Len method) of
// any size arrive whole, including a last Read that returns bytes with
// io.EOF; streaming bodies (without Len) are sent while the response
// arrives when the transport is full duplex, and arrive whole otherwise;
// the body is closed on every path, a failed dial included.
func BodyContract(t *testing.T, cfg BodyConfig) {
	t.Helper()
	echo := cfg.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex() // HTTP/1.1 servers that allow it
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
			if err != nil {
				return
			}
		}
	}))

	for _, size := range []int{0, 1, 100, 64<<10 - 1, 64 << 10, 64<<10 + 1, 1 << 20} {
		t.Run(fmt.Sprintf("in-memory body of %d bytes", size), func(t *testing.T) {
			data := pattern(size)
			body := &lenBody{r: bytes.NewReader(data)}
			req, _ := http.NewRequest(http.MethodPost, echo, body)
			req.GetBody = func() (io.ReadCloser, error) { return &lenBody{r: bytes.NewReader(data)}, nil }
			got := roundTrip(t, cfg.Client, req)
			if !bytes.Equal(got, data) {
				t.Fatalf("echoed %d bytes, want the %d sent", len(got), size)
			}
			body.waitClosed(t)
		})
	}

	t.Run("last bytes with io.EOF", func(t *testing.T) {
		data := pattern(1000)
		body := &eofWithData{lenBody{r: bytes.NewReader(data)}}
		req, _ := http.NewRequest(http.MethodPost, echo, body)
		if got := roundTrip(t, cfg.Client, req); !bytes.Equal(got, data) {
			t.Fatalf("echoed %d bytes, want the 1000 sent with io.EOF", len(got))
		}
		body.waitClosed(t)
	})

	t.Run("streaming body", func(t *testing.T) {
		pr, pw := io.Pipe()
		body := &closeCounter{ReadCloser: pr}
		ctx, cancel := context.WithTimeout(context.Background(), bodyBound)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, echo, body)
		req.ContentLength = -1
		type result struct {
			res *http.Response
			err error
		}
		started := make(chan result, 1)
		go func() {
			res, err := cfg.Client.Do(req)
			started <- result{res, err}
		}()
		parts := [][]byte{pattern(10), pattern(1 << 10), pattern(100 << 10)}
		if !cfg.FullDuplex {
			go func() {
				for _, p := range parts {
					_, _ = pw.Write(p)
				}
				pw.Close()
			}()
		}
		var r result
		select {
		case r = <-started:
		case <-time.After(bodyBound):
			t.Fatal("no response while the request body streams: the transport waits for its end")
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		defer r.res.Body.Close()
		for _, p := range parts {
			if cfg.FullDuplex {
				// Each part must come back before the next is written.
				if _, err := pw.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			got := make([]byte, len(p))
			if _, err := io.ReadFull(r.res.Body, got); err != nil || !bytes.Equal(got, p) {
				t.Fatalf("echo of a %d-byte part: %v", len(p), err)
			}
		}
		pw.Close()
		if rest, err := io.ReadAll(r.res.Body); err != nil || len(rest) != 0 {
			t.Fatalf("after the last part: %d more bytes, %v", len(rest), err)
		}
		body.waitClosed(t)
	})

	t.Run("closed on a failed dial", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		body := &lenBody{r: bytes.NewReader(pattern(10))}
		req, _ := http.NewRequest(http.MethodPost, cfg.Scheme+"://"+addr+"/", body)
		if res, err := cfg.Client.Do(req); err == nil {
			res.Body.Close()
			t.Fatal("a call to a closed port succeeded")
		}
		body.waitClosed(t)
	})
}

func roundTrip(t *testing.T, c interface {
	Do(*http.Request) (*http.Response, error)
}, req *http.Request) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), bodyBound)
	defer cancel()
	res, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// pattern returns n bytes that show where they were cut.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// closeCounter counts Close calls and lets a test wait for the first.
type closeCounter struct {
	io.ReadCloser
	closes atomic.Int32
	once   sync.Once
	closed chan struct{}
	mu     sync.Mutex
}

func (c *closeCounter) ch() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed == nil {
		c.closed = make(chan struct{})
	}
	return c.closed
}

func (c *closeCounter) Close() error {
	c.closes.Add(1)
	ch := c.ch()
	c.once.Do(func() { close(ch) })
	if c.ReadCloser != nil {
		return c.ReadCloser.Close()
	}
	return nil
}

// waitClosed fails the test if the transport does not close the body.
func (c *closeCounter) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-c.ch():
	case <-time.After(bodyBound):
		t.Fatal("the transport never closed the request body")
	}
}

// lenBody is an in-memory body with a Len method; it fails reads after
// Close, as the contract asks of bodies.
type lenBody struct {
	closeCounter
	mu   sync.Mutex
	r    *bytes.Reader
	done bool
}

func (b *lenBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errors.New("read after Close")
	}
	return b.r.Read(p)
}

func (b *lenBody) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r.Len()
}

func (b *lenBody) Close() error {
	b.mu.Lock()
	b.done = true
	b.mu.Unlock()
	return b.closeCounter.Close()
}

// eofWithData returns its last bytes together with io.EOF.
type eofWithData struct{ lenBody }

func (b *eofWithData) Read(p []byte) (int, error) {
	n, err := b.lenBody.Read(p)
	if err == nil && b.Len() == 0 {
		err = io.EOF
	}
	return n, err
}

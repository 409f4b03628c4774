package h2

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

func TestFlusherStreamsResponse(t *testing.T) {
	next := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := range 3 {
			fmt.Fprintf(w, "line %d\n", i)
			w.(http.Flusher).Flush()
			<-next // the client must have read the line to let us go on
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			srv, c := pair(t, name, h)
			resp, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			for i := range 3 {
				line, err := br.ReadString('\n')
				if err != nil || line != fmt.Sprintf("line %d\n", i) {
					t.Fatalf("line %d: %q, %v", i, line, err)
				}
				next <- struct{}{}
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("after the lines: %v, want EOF", err)
			}
		})
	}
}

func TestResponseTrailers(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Declared, X-Unset")
		w.Header().Set("X-Header", "h")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Declared", "declared value")
		w.Header().Set(http.TrailerPrefix+"X-Prefixed", "prefixed value")
		w.Header().Set("X-Late-Header", "not sent")
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			srv, c := pair(t, name, h)
			resp, body := do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
			if body != "body" || resp.Header.Get("X-Header") != "h" {
				t.Errorf("body %q, header %v", body, resp.Header)
			}
			if resp.Header.Get("X-Late-Header") != "" {
				t.Error("a header set after WriteHeader was sent")
			}
			want := http.Header{"X-Declared": {"declared value"}, "X-Prefixed": {"prefixed value"}, "X-Unset": nil}
			if fmt.Sprint(resp.Trailer) != fmt.Sprint(want) {
				t.Errorf("trailers %v, want %v", resp.Trailer, want)
			}
		})
	}
}

// TestTrailersOnly: a response with no body ends with its headers, which
// carry what would otherwise be trailers (gRPC's trailers-only form).
func TestTrailersOnly(t *testing.T) {
	srv, c := pair(t, NameH2C, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Grpc-Status", "5")
	}))
	resp, body := do(t, c, newRequest(t, "POST", srv.URL()+"/", strings.NewReader("x")))
	if body != "" || resp.Header.Get("Grpc-Status") != "5" || len(resp.Trailer) != 0 {
		t.Errorf("body %q, header %v, trailer %v", body, resp.Header, resp.Trailer)
	}
}

func TestRequestTrailers(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		fmt.Fprintf(w, "%s|%s", b, r.Trailer.Get("X-Checksum"))
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			srv, c := pair(t, name, h)
			pr, pw := io.Pipe()
			req := newRequest(t, "POST", srv.URL()+"/", pr)
			req.Trailer = http.Header{"X-Checksum": nil}
			go func() {
				_, _ = io.WriteString(pw, "payload")
				req.Trailer.Set("X-Checksum", "abc")
				_ = pw.Close()
			}()
			if _, body := do(t, c, req); body != "payload|abc" {
				t.Errorf("server saw %q", body)
			}
		})
	}
}

// TestFullDuplex: the handler echoes each chunk as it arrives and the client
// waits for each echo before it sends the next, which only works if both
// directions flow at once.
func TestFullDuplex(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		buf := make([]byte, 64)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				_, _ = w.Write(bytes.ToUpper(buf[:n]))
				w.(http.Flusher).Flush()
			}
			if err != nil {
				return
			}
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			srv, c := pair(t, name, h)
			pr, pw := io.Pipe()
			resp, err := c.Do(newRequest(t, "POST", srv.URL()+"/", pr))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := make([]byte, 64)
			for i := range 20 {
				msg := fmt.Sprintf("ping %d", i)
				if _, err := io.WriteString(pw, msg); err != nil {
					t.Fatal(err)
				}
				n, err := io.ReadFull(resp.Body, buf[:len(msg)])
				if err != nil || string(buf[:n]) != strings.ToUpper(msg) {
					t.Fatalf("echo %d: %q, %v", i, buf[:n], err)
				}
			}
			_ = pw.Close()
			if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 0 {
				t.Errorf("after close: %q, %v", b, err)
			}
		})
	}
}

// TestContextCancelledOnReset: a client that cancels its request resets
// the stream, and the handler's context ends.
func TestContextCancelledOnReset(t *testing.T) {
	started := make(chan struct{})
	ended := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
		ended <- r.Context().Err()
	})
	srv, c := pair(t, NameH2C, h)
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	recv(t, started, "the handler")
	cancel()
	if err := recv(t, ended, "the handler's context to end"); !errors.Is(err, context.Canceled) {
		t.Errorf("handler context error %v", err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.Canceled) {
		t.Errorf("reading the body after cancel: %v, want context.Canceled", err)
	}
	_ = resp.Body.Close()
}

// TestContextCancelledOnRawReset sends RST_STREAM by hand and checks that
// the handler's context ends, and contexts derived from it.
func TestContextCancelledOnRawReset(t *testing.T) {
	ended := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Hour)
		defer cancel()
		<-ctx.Done()
		ended <- context.Cause(ctx)
	})
	srv := startServer(t, serverConfig(t, NameH2C), h)
	r := dialRaw(t, srv)
	r.writeHeaders(1, false, request("POST", "/")...)
	if err := r.fr.WriteRSTStream(1, http2.ErrCodeCancel); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, ended, "the derived context to end"); !errors.Is(err, context.Canceled) {
		t.Errorf("derived context cause %v", err)
	}
}

func TestHandlerPanicResetsStream(t *testing.T) {
	var logged bytes.Buffer
	var mu sync.Mutex
	logger := log.New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), "", 0)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/abort":
			panic(http.ErrAbortHandler)
		case "/boom":
			panic("boom")
		}
	})
	srv := startServer(t, serverConfig(t, NameH2C), h, WithErrorLog(logger))
	c := newClient(t, clientConfig(t, NameH2C))
	for _, path := range []string{"/boom", "/abort"} {
		resp, err := c.Do(newRequest(t, "GET", srv.URL()+path, nil))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
		}
		var reset peerReset
		if !errors.As(err, &reset) || reset.code != http2.ErrCodeInternal {
			t.Errorf("%s: %v, want a reset with INTERNAL_ERROR", path, err)
		}
	}
	mu.Lock()
	if !strings.Contains(logged.String(), "boom") || strings.Count(logged.String(), "panic serving") != 1 {
		t.Errorf("log: %q, want the one panic that was not ErrAbortHandler", logged.String())
	}
	mu.Unlock()
	// The connection still works.
	do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestHeadAndSniffing(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html><body>hello</body></html>")
	})
	srv, c := pair(t, NameH2C, h)
	resp, body := do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || body == "" {
		t.Errorf("sniffed %q for %q", ct, body)
	}
	resp, body = do(t, c, newRequest(t, "HEAD", srv.URL()+"/", nil))
	if body != "" || resp.ContentLength != 31 {
		t.Errorf("HEAD: body %q, length %d", body, resp.ContentLength)
	}
}

func TestExpectContinueAndInformational(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})
	srv := startServer(t, serverConfig(t, NameH2C), h)
	r := dialRaw(t, srv)
	r.writeHeaders(1, false, request("POST", "/")...)
	if status := r.waitResponse(1); status != "103" {
		t.Fatalf("first response %s, want 103", status)
	}
	if err := r.fr.WriteData(1, true, []byte("body")); err != nil {
		t.Fatal(err)
	}
	if status := r.waitResponse(1); status != "200" {
		t.Errorf("final response %s", status)
	}
	// A client that expects 100-continue gets it once the handler reads.
	srv2 := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body)
	}))
	r = dialRaw(t, srv2)
	r.writeHeaders(1, false, request("POST", "/", "expect", "100-continue")...)
	if status := r.waitResponse(1); status != "100" {
		t.Fatalf("response %s, want 100", status)
	}
	_ = r.fr.WriteData(1, true, []byte("x"))
	if status := r.waitResponse(1); status != "200" {
		t.Errorf("final response %s", status)
	}
}

func TestReadDeadline(t *testing.T) {
	errc := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			t.Error(err)
		}
		_, err := io.ReadAll(r.Body)
		errc <- err
	})
	srv, c := pair(t, NameH2C, h)
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		resp, err := c.Do(newRequest(t, "POST", srv.URL()+"/", pr))
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	if err := recv(t, errc, "the read to fail"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read error %v, want a deadline error", err)
	}
}

// TestFlowControl moves large bodies both ways over small windows, on many
// streams at once, so that every window runs out and is refilled.
func TestFlowControl(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body)
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			small := WithInitialWindows(65535, 65535)
			srv := startServer(t, serverConfig(t, name), h, small)
			c := newClient(t, clientConfig(t, name), small)
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := bytes.Repeat([]byte{byte('a' + i)}, 300<<10+i)
					resp, err := c.Do(newRequest(t, "POST", srv.URL()+"/", io.NopCloser(bytes.NewReader(body))))
					if err != nil {
						t.Error(err)
						return
					}
					got, err := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if err != nil || !bytes.Equal(got, body) {
						t.Errorf("stream %d: %d bytes back, %v", i, len(got), err)
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestWindowGrowth: a large transfer makes the receiver measure the
// bandwidth-delay product and grow its windows.
func TestWindowGrowth(t *testing.T) {
	body := bytes.Repeat([]byte("z"), 8<<20)
	srv, c := pair(t, NameH2C, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
	for range 3 {
		_, got := do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
		if len(got) != len(body) {
			t.Fatalf("%d bytes", len(got))
		}
	}
	c.mu.Lock()
	var cc *clientConn
	for _, p := range c.pools {
		cc = p.conns[0]
	}
	c.mu.Unlock()
	cc.c.mu.Lock()
	w := cc.c.streamWindow.v.Load()
	cc.c.mu.Unlock()
	if w <= defaultStreamWindow {
		t.Errorf("stream window still %d after 24 MiB", w)
	}
}

func TestUnreadRequestBodyIsReset(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "early answer")
	}))
	r := dialRaw(t, srv)
	r.writeHeaders(1, false, request("POST", "/")...)
	_ = r.fr.WriteData(1, false, []byte("more to come"))
	f := r.waitFor("the response to end", func(f http2.Frame) bool {
		d, ok := f.(*http2.DataFrame)
		return ok && d.StreamID == 1 && d.StreamEnded()
	})
	_ = f
	if code := r.waitRST(1); code != http2.ErrCodeNo {
		t.Errorf("RST_STREAM %v after the response, want NO_ERROR", code)
	}
	// Data the client had in flight is ignored, not answered.
	_ = r.fr.WriteData(1, true, []byte("late"))
	r.writeHeaders(3, true, request("GET", "/")...)
	if status := r.waitResponse(3); status != "200" {
		t.Errorf("next stream: %s", status)
	}
}

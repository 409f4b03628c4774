package h2

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"polyconnect.dev/protocol/transport"
)

// TestShutdownWaitsForStreams: a unary call and a bidirectional stream in
// flight when Shutdown starts both finish, the stream still moving both
// ways, and Shutdown returns only then.
func TestShutdownWaitsForStreams(t *testing.T) {
	releaseUnary := make(chan struct{})
	unaryIn := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/unary":
			close(unaryIn)
			<-releaseUnary
			_, _ = io.WriteString(w, "unary done")
		case "/bidi":
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			buf := make([]byte, 16)
			for {
				n, err := r.Body.Read(buf)
				if n > 0 {
					_, _ = w.Write(buf[:n])
					w.(http.Flusher).Flush()
				}
				if err != nil {
					return
				}
			}
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			releaseUnary = make(chan struct{})
			unaryIn = make(chan struct{})
			srv, c := pair(t, name, h)
			unary := make(chan string, 1)
			go func() {
				resp, err := c.Do(newRequest(t, "GET", srv.URL()+"/unary", nil))
				if err != nil {
					unary <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				unary <- string(b)
			}()
			recv(t, unaryIn, "the unary call")
			pr, pw := io.Pipe()
			resp, err := c.Do(newRequest(t, "POST", srv.URL()+"/bidi", pr))
			if err != nil {
				t.Fatal(err)
			}
			echo := func(msg string) {
				t.Helper()
				if _, err := io.WriteString(pw, msg); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, len(msg))
				if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != msg {
					t.Fatalf("echo %q: %q, %v", msg, buf, err)
				}
			}
			echo("before")

			shutdown := make(chan error, 1)
			go func() { shutdown <- srv.Shutdown(context.Background()) }()
			// New connections are refused once the listener is closed.
			eventually(t, "the listener to close", func() bool {
				conn, err := net.Dial("tcp", srv.Addr().String())
				if err == nil {
					_ = conn.Close()
				}
				return err != nil
			})
			echo("during")
			select {
			case err := <-shutdown:
				t.Fatalf("Shutdown returned %v with streams in flight", err)
			default:
			}
			close(releaseUnary)
			if got := recv(t, unary, "the unary response"); got != "unary done" {
				t.Errorf("unary call: %q", got)
			}
			echo("after")
			_ = pw.Close()
			if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 0 {
				t.Errorf("end of stream: %q, %v", b, err)
			}
			_ = resp.Body.Close()
			if err := recv(t, shutdown, "Shutdown"); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := srv.Serve(); err != nil {
				t.Errorf("Serve after Shutdown: %v", err)
			}
		})
	}
}

// TestShutdownTwoPhaseGoAway watches the GOAWAYs on the wire: the first
// says 2^31-1 and comes with a PING; a stream the client opens before it
// answers is still served; the second GOAWAY names it as the last; streams
// after it are refused.
func TestShutdownTwoPhaseGoAway(t *testing.T) {
	release := make(chan struct{})
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	r := dialRaw(t, srv)
	r.writeHeaders(1, true, request("GET", "/")...)
	r.waitFor("SETTINGS", func(f http2.Frame) bool { _, ok := f.(*http2.SettingsFrame); return ok })
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(context.Background()) }()
	g := r.waitGoAway()
	if g.LastStreamID != 1<<31-1 || g.ErrCode != http2.ErrCodeNo {
		t.Fatalf("first GOAWAY: last stream %d, %v", g.LastStreamID, g.ErrCode)
	}
	ping := r.waitFor("PING", func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && !p.IsAck() }).(*http2.PingFrame)
	r.writeHeaders(3, true, request("GET", "/")...)
	_ = r.fr.WritePing(true, ping.Data)
	g = r.waitGoAway()
	if g.LastStreamID != 3 || g.ErrCode != http2.ErrCodeNo {
		t.Fatalf("second GOAWAY: last stream %d, %v", g.LastStreamID, g.ErrCode)
	}
	r.writeHeaders(5, true, request("GET", "/")...)
	if code := r.waitRST(5); code != http2.ErrCodeRefusedStream {
		t.Errorf("stream after the last GOAWAY: %v, want REFUSED_STREAM", code)
	}
	close(release)
	served := map[uint32]string{}
	for len(served) < 2 {
		h := r.waitFor("responses", func(f http2.Frame) bool { _, ok := f.(*http2.MetaHeadersFrame); return ok }).(*http2.MetaHeadersFrame)
		served[h.StreamID] = h.PseudoValue("status")
	}
	if served[1] != "200" || served[3] != "200" {
		t.Errorf("streams before the last GOAWAY: %v, want 200 for streams 1 and 3", served)
	}
	r.expectClosed()
	if err := recv(t, shutdown, "Shutdown"); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestShutdownContextEnds: a handler that does not finish is cancelled when
// Shutdown's context ends, and Shutdown reports the context's error.
func TestShutdownContextEnds(t *testing.T) {
	handlerErr := make(chan error, 1)
	started := make(chan struct{})
	srv, c := pair(t, NameH2C, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		handlerErr <- r.Context().Err()
	}))
	callErr := make(chan error, 1)
	go func() {
		resp, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
		}
		callErr <- err
	}()
	recv(t, started, "the handler")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if err := recv(t, handlerErr, "the handler's context"); !errors.Is(err, context.Canceled) {
		t.Errorf("handler context: %v", err)
	}
	if err := recv(t, callErr, "the call"); err == nil {
		t.Error("the call succeeded although the server was closed under it")
	}
}

func TestCloseCancelsCalls(t *testing.T) {
	started := make(chan struct{})
	done := make(chan struct{})
	srv, c := pair(t, NameH2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(done)
	}))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil))
		errc <- err
	}()
	recv(t, started, "the handler")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	recv(t, done, "the handler's context to end")
	if err := recv(t, errc, "the call"); err == nil {
		t.Error("the call succeeded")
	}
	if err := srv.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestServerIdleTimeout(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.IdleTimeout = transport.Duration(100 * time.Millisecond)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	}))

	// The idle clock starts when the server accepts a connection, so on a
	// busy machine it may find a fresh connection idle before the request's
	// HEADERS reach it, and close it with GOAWAY (last stream 0): the
	// timeout working as meant, on a connection that had no stream yet. Then
	// dial again: what this test checks starts once the stream is in flight,
	// which the handler signals.
	var frames <-chan http2.Frame
	for attempt := 1; ; attempt++ {
		r := dialRaw(t, srv)
		r.writeHeaders(1, true, request("GET", "/")...)
		frames = r.pump()
		if waitInFlight(t, started, frames) {
			break
		}
		if attempt == 50 {
			t.Fatalf("the server closed %d fresh connections as idle before their first stream arrived", attempt)
		}
	}

	// A connection with a stream in flight stays open past the timeout:
	// four timeouts pass (at least; more on a busy machine, which changes
	// nothing) and the response still comes on it.
	time.Sleep(4 * time.Duration(cfg.IdleTimeout))
	close(release)
	if status := nextResponse(t, frames, 1); status != "200" {
		t.Fatalf("status %s", status)
	}
	// Once idle, it is closed with GOAWAY NO_ERROR.
	g, ok := next[*http2.GoAwayFrame](t, frames)
	if !ok {
		t.Fatal("the connection closed without GOAWAY")
	}
	if g.ErrCode != http2.ErrCodeNo || g.LastStreamID != 1 {
		t.Errorf("GOAWAY %v, last stream %d", g.ErrCode, g.LastStreamID)
	}
	if _, ok := next[*http2.DataFrame](t, frames); ok {
		t.Error("a DATA frame after GOAWAY")
	}
}

// pump reads the connection's frames on a goroutine of its own, answering
// PINGs and SETTINGS as a live client does, and sends the rest on the
// channel it returns, which it closes when the connection ends. The test
// writes nothing on r once pump runs.
func (r *rawConn) pump() <-chan http2.Frame {
	ch := make(chan http2.Frame, 16)
	go func() {
		defer close(ch)
		for {
			f, err := r.readFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.PingFrame:
				if !f.IsAck() {
					_ = r.fr.WritePing(true, f.Data)
				}
				continue
			case *http2.SettingsFrame:
				if !f.IsAck() {
					_ = r.fr.WriteSettingsAck()
				}
				continue
			case *http2.MetaHeadersFrame:
				// The framer reuses its frames: hand on a copy.
				c := *f
				c.Fields = append([]hpack.HeaderField(nil), f.Fields...)
				ch <- &c
				continue
			case *http2.DataFrame:
				ch <- &http2.DataFrame{FrameHeader: f.FrameHeader}
				continue
			case *http2.GoAwayFrame:
				c := *f
				ch <- &c
				continue
			}
			ch <- nil // another frame: its kind is all a test may ask of it
		}
	}()
	return ch
}

// waitInFlight waits until the handler has the stream (true) or the server
// closed the connection first (false).
func waitInFlight(t *testing.T, started <-chan struct{}, frames <-chan http2.Frame) bool {
	t.Helper()
	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	for {
		select {
		case <-started:
			return true
		case f, ok := <-frames:
			if g, isGoAway := f.(*http2.GoAwayFrame); !ok || isGoAway && g.LastStreamID == 0 {
				return false
			}
		case <-timeout.C:
			t.Fatal("the request reached neither the handler nor a GOAWAY")
		}
	}
}

// next returns the next frame of type F from frames, skipping others, or
// false if the connection ended first.
func next[F http2.Frame](t *testing.T, frames <-chan http2.Frame) (F, bool) {
	t.Helper()
	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				var zero F
				return zero, false
			}
			if want, isF := f.(F); isF {
				return want, true
			}
		case <-timeout.C:
			t.Fatalf("no frame in %s", waitTimeout)
		}
	}
}

// nextResponse returns the :status of stream id's response headers.
func nextResponse(t *testing.T, frames <-chan http2.Frame, id uint32) string {
	t.Helper()
	for {
		h, ok := next[*http2.MetaHeadersFrame](t, frames)
		if !ok {
			t.Fatal("the connection closed before the response headers")
		}
		if h.StreamID == id {
			return h.PseudoValue("status")
		}
	}
}

func TestHandshakeTimeout(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.ReadHeaderTimeout = transport.Duration(100 * time.Millisecond)
	srv := startServer(t, cfg, http.NotFoundHandler())
	for _, send := range []string{"", http2.ClientPreface} {
		conn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(conn, send)
		_ = conn.SetReadDeadline(time.Now().Add(waitTimeout))
		_, err = io.Copy(io.Discard, conn)
		_ = conn.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("sent %q: the server kept the connection open", send)
		}
	}
}

// TestHeaderBlockTimeout: a client that starts a header block and never
// finishes it holds the connection (only CONTINUATION may follow) until the
// header timeout closes it.
func TestHeaderBlockTimeout(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.ReadHeaderTimeout = transport.Duration(100 * time.Millisecond)
	srv := startServer(t, cfg, http.NotFoundHandler())
	r := dialRaw(t, srv)
	block := r.encode(request("GET", "/")...)
	_ = r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:3], EndStream: true})
	r.expectClosed()
}

func TestServerKeepalive(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), http.NotFoundHandler(), WithKeepalive(50*time.Millisecond, 100*time.Millisecond))
	t.Run("answered", func(t *testing.T) {
		r := dialRaw(t, srv)
		for range 3 {
			r.waitFor("a keep-alive PING", func(f http2.Frame) bool {
				p, ok := f.(*http2.PingFrame)
				if ok && !p.IsAck() {
					_ = r.fr.WritePing(true, p.Data)
				}
				return ok && !p.IsAck()
			})
		}
		r.writeHeaders(1, true, request("GET", "/")...)
		if status := r.waitResponse(1); status != "404" {
			t.Errorf("status %s", status)
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		r := dialRaw(t, srv)
		r.expectClosed()
	})
}

// TestClientKeepalive: a client with PingInterval closes a connection
// whose server stops answering, and the call on it fails.
func TestClientKeepalive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		// Speak just enough HTTP/2 for the client to send its request,
		// then go silent.
		buf := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(conn, buf); err != nil {
			return
		}
		fr := http2.NewFramer(conn, conn)
		_ = fr.WriteSettings()
		_, _ = io.Copy(io.Discard, conn)
	}()
	cfg := clientConfig(t, NameH2C)
	cfg.PingInterval = transport.Duration(50 * time.Millisecond)
	c := newClient(t, cfg, WithKeepalive(0, 100*time.Millisecond))
	_, err = c.Do(newRequest(t, "GET", "http://"+ln.Addr().String()+"/", nil))
	if err == nil {
		t.Fatal("the call on a dead connection succeeded")
	}
}

func TestClientIdleTimeout(t *testing.T) {
	var open atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, transport.Config{Name: NameH2C}, http.NotFoundHandler(), WithListener(&trackingListener{Listener: ln, open: &open}))
	cfg := clientConfig(t, NameH2C)
	cfg.IdleTimeout = transport.Duration(50 * time.Millisecond)
	c := newClient(t, cfg)
	do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
	eventually(t, "the idle connection to close", func() bool { return open.Load() == 0 })
}

// trackingListener counts the connections it accepted that are still open.
type trackingListener struct {
	net.Listener
	open *atomic.Int32
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Add(1)
	return &trackedConn{Conn: c, open: l.open}, nil
}

type trackedConn struct {
	net.Conn
	open   *atomic.Int32
	closed atomic.Bool
}

func (c *trackedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}

func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// TestClientRetriesRefusedStreams: streams the server refuses, and those
// above a GOAWAY's last stream ID, were not processed and go again.
func TestClientRetriesRefusedStreams(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	real := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	// A fake server that refuses the first stream and says GOAWAY to the
	// second; the client then dials again and reaches the real one.
	served := make(chan struct{})
	go func() {
		defer close(served)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(conn, buf); err != nil {
			return
		}
		fr := http2.NewFramer(conn, conn)
		fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		_ = fr.WriteSettings()
		streams := 0
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			if h, ok := f.(*http2.MetaHeadersFrame); ok {
				streams++
				if streams == 1 {
					_ = fr.WriteRSTStream(h.StreamID, http2.ErrCodeRefusedStream)
				} else {
					_ = fr.WriteGoAway(0, http2.ErrCodeNo, nil)
					_ = conn.Close()
					ln.Close()
					return
				}
			}
		}
	}()
	var dialed atomic.Int32
	c := newClient(t, clientConfig(t, NameH2C), WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dialed.Add(1) == 1 {
			return net.Dial(network, ln.Addr().String())
		}
		return net.Dial(network, real.Addr().String())
	}))
	resp, body := do(t, c, newRequest(t, "POST", "http://example.test/", strings.NewReader("again")))
	if resp.StatusCode != 200 || body != "again" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	<-served
	if n := dialed.Load(); n != 2 {
		t.Errorf("%d dials, want 2", n)
	}
}

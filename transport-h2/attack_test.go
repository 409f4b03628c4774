package h2

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// The attacks HTTP/2 servers have fallen to in public, each against a real
// socket. Every test ends by checking that the server still serves.

// stillServes checks that a fresh connection to srv gets answers.
func stillServes(t *testing.T, srv *Server) {
	t.Helper()
	r := dialRaw(t, srv)
	r.writeHeaders(1, true, request("GET", "/")...)
	if status := r.waitResponse(1); status == "" {
		t.Fatal("no response after the attack")
	}
}

// TestRapidReset (CVE-2023-44487): the client opens streams and resets
// them at once, over and over, to make the server start handlers without
// the concurrency limit holding, since reset streams no longer count
// against it. Handlers here ignore cancellation, the worst case: the server
// must never run more than MaxConcurrentStreams of them, and must close the
// connection with ENHANCE_YOUR_CALM.
func TestRapidReset(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		running.Add(-1)
	})
	cfg := serverConfig(t, NameH2C)
	cfg.MaxConcurrentStreams = 10
	srv := startServer(t, cfg, h)
	r := dialRaw(t, srv)
	var writeErr error
	for id := uint32(1); id < 2000 && writeErr == nil; id += 2 {
		if writeErr = r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.encode(request("GET", "/")...), EndStream: true, EndHeaders: true}); writeErr == nil {
			writeErr = r.fr.WriteRSTStream(id, http2.ErrCodeCancel)
		}
	}
	r.expectGoAway(http2.ErrCodeEnhanceYourCalm)
	if p := peak.Load(); p > 10 {
		t.Errorf("%d handlers ran at once, more than MaxConcurrentStreams (10)", p)
	}
	close(release)
	stillServes(t, srv)
}

// TestRapidResetWithWellBehavedHandlers: when handlers end as their
// context is cancelled, resets free their slots and the connection lives
// on, however many streams the client cancels over time.
func TestRapidResetWithWellBehavedHandlers(t *testing.T) {
	var running, peak, started atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-r.Context().Done()
		running.Add(-1)
	})
	cfg := serverConfig(t, NameH2C)
	cfg.MaxConcurrentStreams = 10
	srv := startServer(t, cfg, h)
	r := dialRaw(t, srv)
	id := uint32(1)
	for round := range 30 {
		for range 10 {
			r.writeHeaders(id, true, request("GET", "/")...)
			if err := r.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
				t.Fatal(err)
			}
			id += 2
		}
		// Every handler ends, and frees its slot, before the next round:
		// a stream reset while it waits for a slot is never started.
		want := int32(10 * (round + 1))
		eventually(t, "the handlers to start and end", func() bool {
			return started.Load() == want && running.Load() == 0 && serverHandlers(srv) == 0
		})
	}
	if p := peak.Load(); p > 10 {
		t.Errorf("%d handlers ran at once, more than MaxConcurrentStreams (10)", p)
	}
	r.writeHeaders(id, true, request("GET", "/")...)
	_ = r.fr.WritePing(false, [8]byte{1})
	r.waitFor("the PING's answer", func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && p.IsAck() })
}

// serverHandlers returns how many handler slots srv's connections hold.
func serverHandlers(srv *Server) int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := 0
	for sc := range srv.conns {
		if c := sc.getConnNoStop(); c != nil {
			c.mu.Lock()
			n += int(sc.handlers)
			c.mu.Unlock()
		}
	}
	return n
}

// TestMaxConcurrentStreams: streams beyond the advertised limit are
// refused.
func TestMaxConcurrentStreams(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	cfg := serverConfig(t, NameH2C)
	cfg.MaxConcurrentStreams = 2
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	r := dialRaw(t, srv)
	s := r.waitFor("SETTINGS", func(f http2.Frame) bool { _, ok := f.(*http2.SettingsFrame); return ok }).(*http2.SettingsFrame)
	if v, ok := s.Value(http2.SettingMaxConcurrentStreams); !ok || v != 2 {
		t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS %d, %v", v, ok)
	}
	for _, id := range []uint32{1, 3, 5} {
		r.writeHeaders(id, true, request("GET", "/")...)
	}
	if code := r.waitRST(5); code != http2.ErrCodeRefusedStream {
		t.Errorf("third stream: %v, want REFUSED_STREAM", code)
	}
}

// TestContinuationFlood (CVE-2024-27316 and relatives): a header block
// that never ends, in CONTINUATION frames, must not make the server buffer
// or decode without limit.
func TestContinuationFlood(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.MaxHeaderBytes = 16 << 10
	srv := startServer(t, cfg, http.NotFoundHandler())
	t.Run("growing", func(t *testing.T) {
		r := dialRaw(t, srv)
		_ = r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: r.encode(request("GET", "/")...)})
		frag := r.encode("x-filler", strings.Repeat("a", 1000))
		var err error
		for i := 0; i < 10000 && err == nil; i++ {
			err = r.fr.WriteContinuation(1, false, frag)
		}
		r.expectGoAway(http2.ErrCodeEnhanceYourCalm)
	})
	t.Run("empty frames", func(t *testing.T) {
		r := dialRaw(t, srv)
		_ = r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: r.encode(request("GET", "/")...)})
		var err error
		for i := 0; i < 10000 && err == nil; i++ {
			err = r.fr.WriteContinuation(1, false, nil)
		}
		r.expectGoAway(http2.ErrCodeEnhanceYourCalm)
	})
	stillServes(t, srv)
}

// TestHPACKBomb: a small header block that refers to a large entry of the
// dynamic table many times decodes to megabytes. The server stops keeping
// fields at the header list limit, answers 431 and stays usable.
func TestHPACKBomb(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.MaxHeaderBytes = 64 << 10
	srv := startServer(t, cfg, http.NotFoundHandler())
	r := dialRaw(t, srv)
	// Stream 1 puts a 4000-byte field into the dynamic table.
	r.writeHeaders(1, true, request("GET", "/", "x-big", strings.Repeat("b", 4000))...)
	if status := r.waitResponse(1); status != "404" {
		t.Fatalf("setup request: %s", status)
	}
	// Stream 3 refers to it (index 62, one byte) 4000 times: 16 MB decoded
	// from a 4 KB block.
	block := r.encode(request("GET", "/")...)
	block = append(block, bytes.Repeat([]byte{0x80 | 62}, 4000)...)
	_ = r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block, EndStream: true, EndHeaders: true})
	if status := r.waitResponse(3); status != "431" {
		t.Errorf("bomb: status %s, want 431", status)
	}
	// The connection, and its HPACK state, still work.
	r.writeHeaders(5, true, request("GET", "/")...)
	if status := r.waitResponse(5); status != "404" {
		t.Errorf("after the bomb: status %s", status)
	}
}

// TestOversizeHeaders: a header list above MaxHeaderBytes gets 431, and a
// single field above it ends the connection (HPACK cannot skip it).
func TestOversizeHeaders(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.MaxHeaderBytes = 8 << 10
	srv := startServer(t, cfg, http.NotFoundHandler())
	r := dialRaw(t, srv)
	s := r.waitFor("SETTINGS", func(f http2.Frame) bool { _, ok := f.(*http2.SettingsFrame); return ok }).(*http2.SettingsFrame)
	if v, _ := s.Value(http2.SettingMaxHeaderListSize); v != 8<<10 {
		t.Errorf("SETTINGS_MAX_HEADER_LIST_SIZE %d", v)
	}
	var kv []string
	for i := range 20 {
		kv = append(kv, "x-h"+strings.Repeat("i", i), strings.Repeat("v", 1000))
	}
	block := r.encode(append(request("GET", "/"), kv...)...)
	_ = r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:16<<10], EndStream: true})
	_ = r.fr.WriteContinuation(1, true, block[16<<10:])
	if status := r.waitResponse(1); status != "431" {
		t.Errorf("status %s, want 431", status)
	}
	r.writeHeaders(3, true, request("GET", "/", "x-huge", strings.Repeat("h", 12<<10))...)
	r.expectGoAway(http2.ErrCodeCompression)
	// A client sees the limit as an error, not a hang.
	c := newClient(t, clientConfig(t, NameH2C))
	req := newRequest(t, "GET", srv.URL()+"/", nil)
	for i := range 20 {
		req.Header.Set("X-H"+strings.Repeat("i", i), strings.Repeat("v", 1000))
	}
	resp, _ := do(t, c, req)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("client: status %d, want 431", resp.StatusCode)
	}
}

// TestControlFrameFloods: SETTINGS, PING, empty DATA, PRIORITY and unknown
// frames cost the server work without moving a request; floods of them are
// answered with ENHANCE_YOUR_CALM.
func TestControlFrameFloods(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	floods := map[string]func(fr *http2.Framer) error{
		"SETTINGS": func(fr *http2.Framer) error { return fr.WriteSettings() },
		"PING":     func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{9}) },
		"empty DATA": func(fr *http2.Framer) error {
			return fr.WriteData(1, false, nil)
		},
		"PRIORITY": func(fr *http2.Framer) error {
			return fr.WritePriority(3, http2.PriorityParam{StreamDep: 1, Weight: 10})
		},
		"unknown frames": func(fr *http2.Framer) error { return fr.WriteRawFrame(0x42, 0, 0, []byte("x")) },
	}
	for name, send := range floods {
		t.Run(name, func(t *testing.T) {
			r := dialRaw(t, srv)
			r.quiet = true
			r.writeHeaders(1, false, request("POST", "/")...)
			// Read what the server sends while flooding, as an attacker
			// that wants its answers would; the server must not have to
			// queue them forever either way.
			done := make(chan error, 1)
			go func() {
				fr := http2.NewFramer(r.nc, nil)
				var err error
				for i := 0; i < 5000 && err == nil; i++ {
					err = send(fr)
				}
				done <- err
			}()
			r.expectGoAway(http2.ErrCodeEnhanceYourCalm)
			<-done
		})
	}
	stillServes(t, srv)
}

// TestUnreadAcknowledgements: a client that sends PINGs and never reads
// the answers cannot make the server queue them without bound: the answer
// budget, the bound on queued control frames and the stalled writes each
// stop it, whichever comes first.
func TestUnreadAcknowledgements(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), http.NotFoundHandler(), WithWriteStallTimeout(200*time.Millisecond))
	r := dialRaw(t, srv)
	var err error
	for i := 0; i < 100000 && err == nil; i++ {
		// Spread the PINGs between DATA frames, which once paid them
		// back.
		if err = r.fr.WritePing(false, [8]byte{byte(i)}); err == nil && i%2 == 0 {
			err = r.fr.WriteData(1, false, []byte("x"))
		}
		_ = r.nc.SetWriteDeadline(time.Now().Add(waitTimeout))
	}
	if err == nil {
		t.Fatal("the server took 100,000 unanswered PINGs")
	}
	stillServes(t, srv)
}

// TestZeroWindowStall: a client that never opens its flow-control window
// would hold a handler and its buffers forever; the stream is reset after
// the flow-control timeout, and the handler's write fails.
func TestZeroWindowStall(t *testing.T) {
	writeErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := w.Write(make([]byte, 1<<20))
		writeErr <- err
	})
	srv := startServer(t, serverConfig(t, NameH2C), h, WithFlowControlTimeout(100*time.Millisecond))
	t.Run("stream window", func(t *testing.T) {
		r := dialRaw(t, srv, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		r.writeHeaders(1, true, request("GET", "/")...)
		if code := r.waitRST(1); code != http2.ErrCodeCancel {
			t.Errorf("RST_STREAM %v", code)
		}
		if err := recv(t, writeErr, "the handler's write"); err == nil {
			t.Error("the handler's write succeeded")
		}
	})
	t.Run("connection window", func(t *testing.T) {
		// A large stream window, but the connection's stays at 64 KiB.
		r := dialRaw(t, srv, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 4 << 20})
		r.writeHeaders(1, true, request("GET", "/")...)
		r.expectGoAway(http2.ErrCodeFlowControl)
		if err := recv(t, writeErr, "the handler's write"); err == nil {
			t.Error("the handler's write succeeded")
		}
	})
	stillServes(t, srv)
}

// TestClientDefences: the client bounds what a hostile server can make it
// hold too: oversize response headers fail the call.
func TestClientDefences(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("b", 32<<10))
	}))
	cfg := clientConfig(t, NameH2C)
	cfg.MaxHeaderBytes = 16 << 10
	c := newClient(t, cfg)
	_, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil))
	if err == nil {
		t.Fatal("a response with 32 KiB of headers got through a 16 KiB limit")
	}
}

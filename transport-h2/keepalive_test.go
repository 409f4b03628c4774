package h2

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"polyconnect.dev/protocol/transport"
)

// Connection lifetimes and keep-alive (keepalive.go), on real sockets.

// pingAndWait sends a PING and waits for its acknowledgement, or returns
// the GOAWAY that came instead.
func (r *rawConn) pingAndWait(data [8]byte) *http2.GoAwayFrame {
	r.t.Helper()
	if err := r.fr.WritePing(false, data); err != nil {
		r.t.Fatal(err)
	}
	var g *http2.GoAwayFrame
	r.waitFor("the PING's answer", func(f http2.Frame) bool {
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			g = ga
			return true
		}
		p, ok := f.(*http2.PingFrame)
		return ok && p.IsAck() && p.Data == data
	})
	return g
}

// TestKeepaliveEnforcement: a client that pings more often than
// MinPingInterval with nothing sent to it in between is told GOAWAY
// ENHANCE_YOUR_CALM "too_many_pings" on its third early PING, as grpc-go's
// servers do; one that keeps to the interval, or whose PINGs follow data
// the server sent, never is.
func TestKeepaliveEnforcement(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			transferHandler().ServeHTTP(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	start := func(t *testing.T, minInterval time.Duration, permit bool) *Server {
		cfg := serverConfig(t, NameH2C)
		cfg.MinPingInterval = transport.Duration(minInterval)
		cfg.PermitPingsWithoutCalls = permit
		return startServer(t, cfg, h)
	}
	openCall := func(r *rawConn) {
		r.writeHeaders(1, true, request("GET", "/")...)
		if status := r.waitResponse(1); status != "200" {
			r.t.Fatalf("status %s", status)
		}
	}
	t.Run("too often during a call", func(t *testing.T) {
		r := dialRaw(t, start(t, time.Hour, false))
		openCall(r)
		for i := range 3 {
			// The first PING follows the response headers: free. The next
			// two are strikes one and two.
			if g := r.pingAndWait([8]byte{byte(i)}); g != nil {
				t.Fatalf("GOAWAY %v %q after %d PINGs", g.ErrCode, g.DebugData(), i+1)
			}
		}
		g := r.pingAndWait([8]byte{3})
		if g == nil || g.ErrCode != http2.ErrCodeEnhanceYourCalm || string(g.DebugData()) != "too_many_pings" {
			t.Fatalf("fourth PING: GOAWAY %v, want ENHANCE_YOUR_CALM too_many_pings", g)
		}
		r.expectClosed()
	})
	t.Run("within the interval", func(t *testing.T) {
		// PINGs 250 ms apart against a 25 ms minimum: a generous margin,
		// since a busy machine may delay when the server reads one PING
		// more than the next.
		r := dialRaw(t, start(t, 25*time.Millisecond, false))
		openCall(r)
		for i := range 5 {
			time.Sleep(250 * time.Millisecond)
			if g := r.pingAndWait([8]byte{byte(i)}); g != nil {
				t.Fatalf("GOAWAY %v %q after %d PINGs", g.ErrCode, g.DebugData(), i+1)
			}
		}
	})
	t.Run("after data", func(t *testing.T) {
		// A receiver measuring bandwidth pings once per round trip, far
		// more often than an hour allows; each follows data the server
		// sent, so none counts.
		srv := start(t, time.Hour, false)
		r := dialRaw(t, srv, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 32 << 10})
		r.writeHeaders(1, true, request("GET", fmt.Sprintf("/down?n=%d", 64<<20))...)
		_ = r.nc.SetReadDeadline(time.Now().Add(5 * waitTimeout))
		n, pings, err := bandwidthPinger(r.fr, 1)
		if err != nil || n != 64<<20 {
			t.Fatalf("download: %d bytes after %d PINGs: %v", n, pings, err)
		}
		if pings < 10 {
			t.Fatalf("only %d PINGs: the test proves nothing", pings)
		}
	})
	t.Run("without calls", func(t *testing.T) {
		// With no call open, PINGs may come every two hours unless the
		// server permits more.
		r := dialRaw(t, start(t, time.Millisecond, false))
		var g *http2.GoAwayFrame
		for i := 0; i < 4 && g == nil; i++ {
			g = r.pingAndWait([8]byte{byte(i)})
		}
		if g == nil || string(g.DebugData()) != "too_many_pings" {
			t.Fatalf("GOAWAY %v, want too_many_pings", g)
		}
		r = dialRaw(t, start(t, time.Millisecond, true))
		for i := range 5 {
			time.Sleep(20 * time.Millisecond)
			if g := r.pingAndWait([8]byte{byte(i)}); g != nil {
				t.Fatalf("permitted PINGs without calls: GOAWAY %v %q", g.ErrCode, g.DebugData())
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		r := dialRaw(t, start(t, -1, false))
		openCall(r)
		for i := range 10 {
			if g := r.pingAndWait([8]byte{byte(i)}); g != nil {
				t.Fatalf("enforcement off: GOAWAY %v %q", g.ErrCode, g.DebugData())
			}
		}
	})
}

// TestMaxConnectionAge: past MaxConnectionAge the server says GOAWAY in two
// steps; a call in flight finishes within MaxConnectionAgeGrace, one that
// outlasts it is cut with the connection, and a client moves its next calls
// to a new connection without failing any.
func TestMaxConnectionAge(t *testing.T) {
	release := make(chan struct{})
	var cancelled atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-release:
				_, _ = io.WriteString(w, "done")
			case <-r.Context().Done():
				cancelled.Add(1)
			}
		}
	})
	t.Run("call in flight finishes within the grace", func(t *testing.T) {
		cfg := serverConfig(t, NameH2C)
		cfg.MaxConnectionAge = transport.Duration(50 * time.Millisecond)
		cfg.MaxConnectionAgeGrace = transport.Duration(time.Hour)
		r := dialRaw(t, startServer(t, cfg, h))
		r.writeHeaders(1, true, request("GET", "/wait")...)
		// The age may pass before the response headers go out, or after:
		// watch for both GOAWAYs and the headers in whatever order.
		var goAways []*http2.GoAwayFrame
		gotHeaders := false
		r.waitFor("the response headers and two GOAWAYs", func(f http2.Frame) bool {
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				goAways = append(goAways, &http2.GoAwayFrame{LastStreamID: f.LastStreamID, ErrCode: f.ErrCode})
			case *http2.MetaHeadersFrame:
				gotHeaders = gotHeaders || f.StreamID == 1
			}
			return gotHeaders && len(goAways) == 2
		})
		if g := goAways[0]; g.ErrCode != http2.ErrCodeNo || g.LastStreamID != 1<<31-1 {
			t.Fatalf("first GOAWAY %v, last stream %d", g.ErrCode, g.LastStreamID)
		}
		if g := goAways[1]; g.ErrCode != http2.ErrCodeNo || g.LastStreamID != 1 {
			t.Fatalf("second GOAWAY %v, last stream %d", g.ErrCode, g.LastStreamID)
		}
		release <- struct{}{}
		r.waitFor("the response's end", func(f http2.Frame) bool {
			d, ok := f.(*http2.DataFrame)
			return ok && d.StreamID == 1 && d.StreamEnded()
		})
		r.expectClosed()
	})
	t.Run("grace elapses", func(t *testing.T) {
		cfg := serverConfig(t, NameH2C)
		cfg.MaxConnectionAge = transport.Duration(50 * time.Millisecond)
		cfg.MaxConnectionAgeGrace = transport.Duration(100 * time.Millisecond)
		r := dialRaw(t, startServer(t, cfg, h))
		before := cancelled.Load()
		r.writeHeaders(1, true, request("GET", "/wait")...)
		r.waitResponse(1)
		r.waitGoAway()
		r.expectClosed()
		eventually(t, "the handler's context to end", func() bool { return cancelled.Load() == before+1 })
	})
	t.Run("clients move on", func(t *testing.T) {
		var accepted atomic.Int32
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg := transport.Config{Name: NameH2C}
		cfg.MaxConnectionAge = transport.Duration(30 * time.Millisecond)
		cfg.MaxConnectionAgeGrace = transport.Duration(time.Hour)
		srv := startServer(t, cfg, h, WithListener(&countingListener{Listener: ln, n: &accepted}))
		c := newClient(t, clientConfig(t, NameH2C))
		calls := 0
		eventually(t, "three connections", func() bool {
			calls++
			resp, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil))
			if err != nil {
				t.Fatalf("call %d across connection ages: %v", calls, err)
			}
			_ = resp.Body.Close()
			return accepted.Load() >= 3
		})
	})
}

// TestIdleTimeoutIgnoresPings: a connection that carries no call is closed
// after IdleTimeout however often its client pings (grpc-go's
// MaxConnectionIdle).
func TestIdleTimeoutIgnoresPings(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.IdleTimeout = transport.Duration(200 * time.Millisecond)
	cfg.PermitPingsWithoutCalls = true
	cfg.MinPingInterval = -1
	r := dialRaw(t, startServer(t, cfg, http.NotFoundHandler()))
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		if g := r.pingAndWait([8]byte{1}); g != nil {
			if g.ErrCode != http2.ErrCodeNo {
				t.Fatalf("GOAWAY %v", g.ErrCode)
			}
			r.expectClosed()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the idle connection stayed open while its client pinged")
}

// pingCountingServer is a hand-driven HTTP/2 server for client keep-alive
// tests: it answers every request with a 200 once its body ends (or at
// once, for /hold, leaving the stream open), answers PINGs and counts
// them. Its first connection is in conns.
type pingCountingServer struct {
	ln            net.Listener
	pings         atomic.Int32
	goAwayTooMany bool // say too_many_pings at the first PING
}

func startPingCountingServer(t *testing.T, goAwayTooMany bool) *pingCountingServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &pingCountingServer{ln: ln, goAwayTooMany: goAwayTooMany}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(nc)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return s
}

func (s *pingCountingServer) serve(nc net.Conn) {
	defer nc.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(nc, preface); err != nil {
		return
	}
	fr := http2.NewFramer(nc, nc)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	_ = fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	status := bytes.Clone(hb.Bytes())
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if f.IsAck() {
				continue
			}
			s.pings.Add(1)
			if s.goAwayTooMany {
				_ = fr.WriteGoAway(0, http2.ErrCodeEnhanceYourCalm, []byte("too_many_pings"))
				return
			}
			_ = fr.WritePing(true, f.Data)
		case *http2.MetaHeadersFrame:
			hold := f.PseudoValue("path") == "/hold"
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: status, EndStream: !hold, EndHeaders: true})
		}
	}
}

// TestClientKeepaliveOnlyWithCalls: a client pings an idle connection only
// with PermitPingsWithoutCalls; with a call in flight it pings either way.
func TestClientKeepaliveOnlyWithCalls(t *testing.T) {
	for _, permit := range []bool{false, true} {
		t.Run(fmt.Sprint("permit ", permit), func(t *testing.T) {
			s := startPingCountingServer(t, false)
			cfg := clientConfig(t, NameH2C)
			cfg.PingInterval = transport.Duration(20 * time.Millisecond)
			cfg.PermitPingsWithoutCalls = permit
			cfg.IdleTimeout = transport.Duration(time.Hour)
			c := newClient(t, cfg)
			url := "http://" + s.ln.Addr().String()
			do(t, c, newRequest(t, "GET", url+"/", nil))
			// Fifteen intervals with no call.
			time.Sleep(300 * time.Millisecond)
			if n := s.pings.Load(); permit && n == 0 || !permit && n != 0 {
				t.Errorf("%d PINGs on an idle connection (permit %v)", n, permit)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			resp, err := c.Do(newRequest(t, "GET", url+"/hold", nil).WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			before := s.pings.Load()
			eventually(t, "PINGs during a call", func() bool { return s.pings.Load() >= before+2 })
		})
	}
}

// TestClientBacksOffOnTooManyPings: told too_many_pings, a client doubles
// the keep-alive interval of its new connections, as grpc-go's do.
func TestClientBacksOffOnTooManyPings(t *testing.T) {
	s := startPingCountingServer(t, true)
	cfg := clientConfig(t, NameH2C)
	cfg.PingInterval = transport.Duration(20 * time.Millisecond)
	c := newClient(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := c.Do(newRequest(t, "GET", "http://"+s.ln.Addr().String()+"/hold", nil).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	eventually(t, "the interval to double", func() bool { return c.pingInterval.Load() == int64(40*time.Millisecond) })
}

// TestServerKeepaliveFromConfig: Config.PingInterval and PingTimeout make a
// server ping too, and close a connection whose client does not answer.
func TestServerKeepaliveFromConfig(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.PingInterval = transport.Duration(30 * time.Millisecond)
	cfg.PingTimeout = transport.Duration(60 * time.Millisecond)
	srv := startServer(t, cfg, http.NotFoundHandler())
	r := dialRaw(t, srv)
	r.quiet = true
	r.waitFor("a keep-alive PING", func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && !p.IsAck() })
	r.expectClosed()
}

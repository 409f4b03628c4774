package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"polyconnect.dev/protocol/transport"
)

func TestRegistered(t *testing.T) {
	for _, name := range names {
		tr, ok := transport.Lookup(name)
		if !ok {
			t.Fatalf("%q is not registered", name)
		}
		srv, err := tr.NewServer(serverConfig(t, name), http.NotFoundHandler())
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		cl, err := tr.NewClient(clientConfig(t, name))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cl.Do(newRequest(t, "GET", srv.URL()+"/nothing", nil))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.ProtoMajor != 2 {
			t.Errorf("%s: got %d over HTTP/%d, want 404 over HTTP/2", name, resp.StatusCode, resp.ProtoMajor)
		}
		cl.CloseIdleConnections()
		_ = srv.Close()
	}
}

func TestEcho(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 || r.Proto != "HTTP/2.0" {
			t.Errorf("request over %s", r.Proto)
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Path", r.URL.Path+"?"+r.URL.RawQuery)
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-In", r.Header.Get("X-In"))
		w.Header().Set("X-Length", fmt.Sprint(r.ContentLength))
		_, _ = w.Write(b)
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			srv, c := pair(t, name, h)
			for _, size := range []int{0, 1, 100, 16 << 10, 100 << 10, 3 << 20} {
				body := strings.Repeat("x", size)
				req := newRequest(t, "POST", srv.URL()+"/echo/a?b=c", strings.NewReader(body))
				req.Header.Set("X-In", "in value")
				resp, got := do(t, c, req)
				if got != body {
					t.Fatalf("size %d: echoed %d bytes", size, len(got))
				}
				for k, want := range map[string]string{"X-Method": "POST", "X-Path": "/echo/a?b=c", "X-In": "in value", "X-Length": fmt.Sprint(size), "Content-Type": "text/plain"} {
					if v := resp.Header.Get(k); v != want {
						t.Errorf("size %d: %s = %q, want %q", size, k, v, want)
					}
				}
				// A response the handler wrote whole before returning says
				// how long it is; a large one starts before that is known.
				if resp.ContentLength != int64(size) && (size < 16<<10 || resp.ContentLength != -1) {
					t.Errorf("size %d: response ContentLength %d", size, resp.ContentLength)
				}
				if host := resp.Header.Get("X-Host"); host != strings.TrimPrefix(strings.TrimPrefix(srv.URL(), "https://"), "http://") {
					t.Errorf("Host %q", host)
				}
			}
			// A body of unknown length (a reader that is not replayable).
			pr, pw := io.Pipe()
			go func() {
				for i := 0; i < 50; i++ {
					_, _ = pw.Write([]byte(strings.Repeat("y", 1000)))
				}
				_ = pw.Close()
			}()
			resp, got := do(t, c, newRequest(t, "PUT", srv.URL()+"/", pr))
			if len(got) != 50000 || resp.Header.Get("X-Length") != "-1" {
				t.Errorf("streamed body: echoed %d bytes, length header %q", len(got), resp.Header.Get("X-Length"))
			}
		})
	}
}

func TestConcurrentRequestsShareOneConnection(t *testing.T) {
	var mu sync.Mutex
	addrs := map[string]bool{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		addrs[r.RemoteAddr] = true
		mu.Unlock()
		_, _ = io.Copy(w, r.Body)
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			clear(addrs)
			srv, c := pair(t, name, h)
			// One request first, so that the connection exists.
			do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := fmt.Sprint("request ", i)
					resp, err := c.Do(newRequest(t, "POST", srv.URL()+"/", strings.NewReader(body)))
					if err != nil {
						t.Error(err)
						return
					}
					b, _ := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if string(b) != body {
						t.Errorf("got %q, want %q", b, body)
					}
				}()
			}
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			if len(addrs) != 1 {
				t.Errorf("requests came over %d connections, want 1", len(addrs))
			}
		})
	}
}

// TestClientHonoursMaxConcurrentStreams: the server allows 2 streams per
// connection; with MaxConnsPerHost 1 the third request waits for a slot,
// and without the limit the client opens a second connection.
func TestClientHonoursMaxConcurrentStreams(t *testing.T) {
	var gate atomic.Pointer[chan struct{}]
	var inFlight, peak atomic.Int32
	var conns sync.Map
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns.Store(r.RemoteAddr, true)
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-*gate.Load()
		inFlight.Add(-1)
	})
	cfg := serverConfig(t, NameH2C)
	cfg.MaxConcurrentStreams = 2
	srv := startServer(t, cfg, h)
	for _, perHost := range []int{1, 0} {
		t.Run(fmt.Sprint("MaxConnsPerHost=", perHost), func(t *testing.T) {
			ccfg := clientConfig(t, NameH2C)
			ccfg.MaxConnsPerHost = perHost
			c := newClient(t, ccfg)
			// Learn the server's SETTINGS first.
			open := make(chan struct{})
			close(open)
			gate.Store(&open)
			do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
			peak.Store(0)
			conns.Clear()
			release := make(chan struct{})
			gate.Store(&release)
			errs := make(chan error, 3)
			for range 3 {
				go func() {
					resp, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil))
					if err == nil {
						_ = resp.Body.Close()
					}
					errs <- err
				}()
			}
			want := int32(3)
			if perHost == 1 {
				want = 2
			}
			eventually(t, fmt.Sprint(want, " requests in flight"), func() bool { return inFlight.Load() == want })
			close(release)
			for range 3 {
				if err := recv(t, errs, "a response"); err != nil {
					t.Error(err)
				}
			}
			n := 0
			conns.Range(func(any, any) bool { n++; return true })
			switch {
			case perHost == 1 && (peak.Load() != 2 || n != 1):
				t.Errorf("peak %d streams over %d connections, want 2 over 1", peak.Load(), n)
			case perHost == 0 && (peak.Load() != 3 || n != 2):
				t.Errorf("peak %d streams over %d connections, want 3 over 2", peak.Load(), n)
			}
		})
	}
}

func TestClientWaitForSlotHonoursContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	cfg := serverConfig(t, NameH2C)
	cfg.MaxConcurrentStreams = 1
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			<-block
		}
	}))
	ccfg := clientConfig(t, NameH2C)
	ccfg.MaxConnsPerHost = 1
	c := newClient(t, ccfg)
	do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
	go func() {
		resp, err := c.Do(newRequest(t, "GET", srv.URL()+"/block", nil))
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	eventually(t, "the slot to be taken", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.pools {
			for _, cc := range p.conns {
				if cc.active.Load() == 1 {
					return true
				}
			}
		}
		return false
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req := newRequest(t, "GET", srv.URL()+"/", nil).WithContext(ctx)
		_, err := c.Do(req)
		errc <- err
	}()
	cancel()
	if err := recv(t, errc, "Do to return"); !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want context.Canceled", err)
	}
}

func TestConnectionReuseAndCloseIdle(t *testing.T) {
	var accepted atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingListener{Listener: ln, n: &accepted}
	cfg := transport.Config{Name: NameH2C}
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), WithListener(counting))
	c := newClient(t, clientConfig(t, NameH2C))
	for range 5 {
		do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("5 requests opened %d connections, want 1", n)
	}
	c.CloseIdleConnections()
	do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
	if n := accepted.Load(); n != 2 {
		t.Errorf("after CloseIdleConnections: %d connections, want 2", n)
	}
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func TestClientDoesNotFollowRedirectsOrAskForGzip(t *testing.T) {
	srv, c := pair(t, NameH2C, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ae := r.Header.Get("Accept-Encoding"); ae != "" {
			t.Errorf("Accept-Encoding %q", ae)
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	resp, _ := do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/elsewhere" {
		t.Errorf("got %d %q, want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestTLS(t *testing.T) {
	p := testPKI(t)
	srv := startServer(t, serverConfig(t, NameH2), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || r.TLS.NegotiatedProtocol != "h2" {
			t.Errorf("request TLS state %+v", r.TLS)
		}
	}))
	t.Run("verified", func(t *testing.T) {
		c := newClient(t, clientConfig(t, NameH2))
		resp, _ := do(t, c, newRequest(t, "GET", srv.URL()+"/", nil))
		if resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
			t.Errorf("response TLS state %+v", resp.TLS)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		c := newClient(t, transport.Config{Name: NameH2})
		if _, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil)); err == nil {
			t.Error("a client without the CA reached the server")
		}
	})
	t.Run("HTTP/1.1 client, WithoutHTTP1", func(t *testing.T) {
		// Go's TLS server lets a client that offers only http/1.1 in
		// without ALPN; it then hears that this server speaks HTTP/2 only.
		srv := startServer(t, serverConfig(t, NameH2), http.NotFoundHandler(), WithoutHTTP1())
		conn, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		b, _ := io.ReadAll(conn)
		if !strings.HasPrefix(string(b), "HTTP/1.1 505") {
			t.Errorf("an HTTP/1.1 request got %q", b)
		}
	})
	t.Run("mutual TLS", func(t *testing.T) {
		cfg := serverConfig(t, NameH2)
		cfg.TLS.ClientCAPEM = p.caPEM
		cfg.TLS.RequireClientCert = true
		srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
		}))
		c := newClient(t, clientConfig(t, NameH2))
		if _, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil)); err == nil {
			t.Error("a client without a certificate passed mutual TLS")
		}
		ccfg := clientConfig(t, NameH2)
		ccfg.TLS.CertPEM, ccfg.TLS.KeyPEM = p.clientCertPEM, p.clientKeyPEM
		c = newClient(t, ccfg)
		if _, body := do(t, c, newRequest(t, "GET", srv.URL()+"/", nil)); body != "test client" {
			t.Errorf("the server saw client %q", body)
		}
	})
}

func TestCleartextServerWithoutHTTP1Answers505(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), http.NotFoundHandler(), WithoutHTTP1())
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	b, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(b), "HTTP/1.1 505") || !strings.Contains(string(b), "HTTP/2 only") {
		t.Errorf("an HTTP/1.1 request got %q", b)
	}
}

func TestConfigErrors(t *testing.T) {
	p := testPKI(t)
	h := http.NotFoundHandler()
	for _, tt := range []struct {
		name string
		cfg  transport.Config
		want string
	}{
		{"unknown name", transport.Config{Name: "h3", Addr: ":0"}, "not"},
		{"no address", transport.Config{Name: NameH2C}, "Addr is empty"},
		{"h2c with TLS", transport.Config{Name: NameH2C, Addr: ":0", TLS: p.serverTLS()}, "without TLS"},
		{"h2 without certificate", transport.Config{Name: NameH2, Addr: ":0"}, "needs a certificate"},
		{"TLSConfig without certificate", transport.Config{Name: NameH2, Addr: ":0", TLSConfig: &tls.Config{}}, "no certificate"},
		{"negative limits", transport.Config{Name: NameH2C, Addr: ":0", MaxConcurrentStreams: -1}, "negative"},
	} {
		if _, err := NewServer(tt.cfg, h); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("server %s: error %v, want one with %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewServer(transport.Config{Name: NameH2C, Addr: ":0"}, nil); err == nil {
		t.Error("NewServer accepted a nil handler")
	}
	if _, err := NewClient(transport.Config{Name: NameH2C, TLS: p.clientTLS()}); err == nil {
		t.Error("an h2c-rpc client accepted a TLS configuration")
	}
	if _, err := NewClient(transport.Config{Name: "h2"}); err == nil {
		t.Error("NewClient accepted a name of another transport")
	}
	c := newClient(t, transport.Config{Name: NameH2C})
	if _, err := c.Do(newRequest(t, "GET", "https://127.0.0.1:1/", nil)); err == nil || !strings.Contains(err.Error(), "http://") {
		t.Errorf("an h2c-rpc client sent an https URL: %v", err)
	}
	req := newRequest(t, "GET", "http://127.0.0.1:1/", nil)
	req.Header["Bad Name"] = []string{"x"}
	if _, err := c.Do(req); err == nil {
		t.Error("a header with an invalid name was sent")
	}
}

func TestURLs(t *testing.T) {
	c := newClient(t, transport.Config{Name: NameH2, Addr: "example.com:8443"})
	if c.URL() != "https://example.com:8443" {
		t.Errorf("h2-rpc client URL %q", c.URL())
	}
	c = newClient(t, transport.Config{Name: NameH2C, Addr: "example.com:8080"})
	if c.URL() != "http://example.com:8080" {
		t.Errorf("h2c-rpc client URL %q", c.URL())
	}
	if newClient(t, transport.Config{Name: NameH2C}).URL() != "" {
		t.Error("a client without Addr has a URL")
	}
	srv, err := NewServer(transport.Config{Name: NameH2C, Addr: "0.0.0.0:0"}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	if srv.URL() != "" || srv.Addr() != nil {
		t.Error("a server has a URL before Start")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if u := srv.URL(); !strings.HasPrefix(u, "http://127.0.0.1:") && !strings.HasPrefix(u, "http://[::1]:") {
		t.Errorf("server on all interfaces has URL %q, want a loopback host", u)
	}
	do(t, newClient(t, transport.Config{Name: NameH2C}), newRequest(t, "GET", srv.URL()+"/", nil))
	if err := srv.Start(); err == nil {
		t.Error("Start twice succeeded")
	}
	if !strings.Contains(srv.String(), "h2c-rpc server on") {
		t.Errorf("String() = %q", srv.String())
	}
}

// TestConfigApplied checks that each Config field reaches what it
// configures, and that zero values get the defaults.
func TestConfigApplied(t *testing.T) {
	srv, err := NewServer(transport.Config{
		Name: NameH2C, Addr: "127.0.0.1:0",
		ReadHeaderTimeout: transport.Duration(3 * time.Second), ReadTimeout: transport.Duration(4 * time.Second),
		WriteTimeout: transport.Duration(5 * time.Second), IdleTimeout: transport.Duration(6 * time.Second),
		MaxHeaderBytes: 7000, MaxConcurrentStreams: 8,
	}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	if srv.lim.handshakeTimeout != 3*time.Second || srv.readTO != 4*time.Second || srv.writeTO != 5*time.Second ||
		srv.idle != 6*time.Second || srv.lim.maxHeaderList != 7000 || srv.lim.maxConcurrent != 8 ||
		srv.lim.keepalive != (keepalive{pingTimeout: DefaultPingTimeout, minPingInterval: DefaultMinPingInterval}) {
		t.Errorf("server settings %+v, read %v, write %v, idle %v", srv.lim, srv.readTO, srv.writeTO, srv.idle)
	}
	srv, err = NewServer(transport.Config{Name: NameH2C, Addr: "127.0.0.1:0", IdleTimeout: -1, ReadHeaderTimeout: -1}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	if srv.idle != 0 || srv.lim.handshakeTimeout != 0 || srv.lim.maxHeaderList != DefaultMaxHeaderBytes || srv.lim.maxConcurrent != DefaultMaxConcurrentStreams {
		t.Errorf("negative durations turn timeouts off, zero limits take defaults: %+v, idle %v", srv.lim, srv.idle)
	}
	srv, err = NewServer(transport.Config{
		Name: NameH2C, Addr: "127.0.0.1:0",
		PingInterval: transport.Duration(time.Second), PingTimeout: transport.Duration(2 * time.Second),
		MinPingInterval: transport.Duration(3 * time.Second), PermitPingsWithoutCalls: true,
		MaxConnectionAge: transport.Duration(4 * time.Second), MaxConnectionAgeGrace: transport.Duration(5 * time.Second),
	}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	if k := srv.lim.keepalive; k != (keepalive{pingInterval: time.Second, pingTimeout: 2 * time.Second, minPingInterval: 3 * time.Second,
		permitWithoutCalls: true, maxAge: 4 * time.Second, maxAgeGrace: 5 * time.Second}) {
		t.Errorf("server keep-alive %+v", k)
	}
	srv, err = NewServer(transport.Config{Name: NameH2C, Addr: "127.0.0.1:0", MinPingInterval: -1}, http.NotFoundHandler(), WithKeepalive(time.Second, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if k := srv.lim.keepalive; k != (keepalive{pingInterval: time.Second, pingTimeout: 2 * time.Second}) {
		t.Errorf("server keep-alive from WithKeepalive, enforcement off: %+v", k)
	}
	if _, err := NewServer(transport.Config{Name: NameH2C, Addr: "127.0.0.1:0", MaxConnectionAgeGrace: transport.Duration(time.Second)}, http.NotFoundHandler()); err == nil {
		t.Error("MaxConnectionAgeGrace without MaxConnectionAge was accepted")
	}
	c, err := NewClient(transport.Config{
		Name: NameH2C, TLSHandshakeTimeout: transport.Duration(2 * time.Second), IdleTimeout: transport.Duration(3 * time.Second),
		MaxIdleConns: 4, MaxIdleConnsPerHost: 5, MaxConnsPerHost: 6, PingInterval: transport.Duration(7 * time.Second), MaxHeaderBytes: 8000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.tlsTimeout != 2*time.Second || c.idleTimeout != 3*time.Second || c.maxIdle != 4 || c.maxIdlePerHost != 5 ||
		c.maxConnsPerHost != 6 || c.lim.keepalive.pingInterval != 7*time.Second || c.lim.maxHeaderList != 8000 {
		t.Errorf("client settings: %+v", c)
	}
	c, err = NewClient(transport.Config{Name: NameH2C})
	if err != nil {
		t.Fatal(err)
	}
	if c.idleTimeout != DefaultClientIdleTimeout || c.maxIdle != DefaultMaxIdleConns || c.maxIdlePerHost != DefaultMaxIdleConnsPerHost ||
		c.maxConnsPerHost != 0 || c.lim.keepalive.pingInterval != 0 || c.tlsTimeout != DefaultTLSHandshakeTimeout {
		t.Errorf("client defaults: %+v", c)
	}
}

// TestStreamTimeouts: ReadTimeout and WriteTimeout bound each stream from
// its start.
func TestStreamTimeouts(t *testing.T) {
	readErr := make(chan error, 1)
	writeErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/read":
			_, err := io.ReadAll(r.Body)
			readErr <- err
		case "/write":
			_, err := w.Write(make([]byte, 1<<20))
			writeErr <- err
		}
	})
	cfg := serverConfig(t, NameH2C)
	cfg.ReadTimeout = transport.Duration(100 * time.Millisecond)
	cfg.WriteTimeout = transport.Duration(100 * time.Millisecond)
	srv := startServer(t, cfg, h)
	// A client that sends part of a body and stalls, and never opens its
	// window for the response.
	r := dialRaw(t, srv, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	r.writeHeaders(1, false, request("POST", "/read")...)
	_ = r.fr.WriteData(1, false, []byte("part"))
	if err := recv(t, readErr, "the body read to time out"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read: %v, want a deadline error", err)
	}
	r.writeHeaders(3, true, request("GET", "/write")...)
	if err := recv(t, writeErr, "the write to time out"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("write: %v, want a deadline error", err)
	}
}

// TestAddrWithScheme checks that an address given as a URL is refused
// with a hint, on servers and clients, as on every transport.
func TestAddrWithScheme(t *testing.T) {
	const want = `has a scheme: give host:port`
	if _, err := NewServer(transport.Config{Name: NameH2C, Addr: "http://127.0.0.1:8080"}, http.NotFoundHandler()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("server: %v, want %q", err, want)
	}
	if _, err := NewClient(transport.Config{Name: NameH2C, Addr: "http://127.0.0.1:8080"}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("client: %v, want %q", err, want)
	}
}

// TestEchoVectored runs TestEcho with vectored writes on (lent payloads
// referred to and written with writev on plain TCP), which are off by
// default, so that the path keeps working.
func TestEchoVectored(t *testing.T) {
	vectoredWrites.Store(true)
	t.Cleanup(func() { vectoredWrites.Store(false) })
	TestEcho(t)
}

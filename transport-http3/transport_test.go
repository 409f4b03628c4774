package h3_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/transport"
	h3 "polyconnect.dev/transport-http3"
	"polyconnect.dev/transport-http3/internal/testpki"
)

func TestRegistered(t *testing.T) {
	if !slices.Contains(transport.Names(), transport.NameH3) {
		t.Fatalf("registered names %v lack h3", transport.Names())
	}
	srv, err := transport.NewServer(serverConfig(t), http.HandlerFunc(protoHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.(*h3.Server); !ok {
		t.Fatalf("NewServer returned %T", srv)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := transport.NewClient(clientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.(*h3.Client).Close()
	code, body, err := get(c, srv.URL()+"/")
	if err != nil || code != http.StatusOK || body != "HTTP/3.0 tls=true peer=-" {
		t.Fatalf("GET = %d %q %v", code, body, err)
	}
}

func TestMutualTLS(t *testing.T) {
	server, client := pki(t)
	cfg := serverConfig(t)
	cfg.TLS = testpki.ServerTLS(server, &client)
	srv := startServer(t, cfg, http.HandlerFunc(protoHandler))

	withCert := newClient(t, transport.Config{TLS: testpki.ClientTLS(server, &client)})
	_, body, err := get(withCert, srv.URL())
	if err != nil || body != "HTTP/3.0 tls=true peer=polyconnect h3 test client" {
		t.Fatalf("with a client certificate: %q, %v", body, err)
	}

	without := newClient(t, clientConfig(t))
	_, _, err = get(without, srv.URL())
	wantHandshakeError(t, err)

	other := testpki.Client(t) // not trusted by the server
	untrusted := newClient(t, transport.Config{TLS: testpki.ClientTLS(server, &other)})
	_, _, err = get(untrusted, srv.URL())
	wantHandshakeError(t, err)
}

func TestUntrustedServer(t *testing.T) {
	srv := startServer(t, serverConfig(t), http.HandlerFunc(protoHandler))
	other := testpki.Server(t)
	c := newClient(t, transport.Config{TLS: &transport.TLSConfig{CAPEM: other.CertPEM}})
	_, _, err := get(c, srv.URL())
	wantHandshakeError(t, err)
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	if !errors.As(err, &unknown) && !errors.As(err, &verify) {
		t.Errorf("error %v does not wrap the verification error", err)
	}

	// The certificate is valid for localhost and loopback IPs only.
	server, _ := pki(t)
	wrongName := newClient(t, transport.Config{TLS: &transport.TLSConfig{CAPEM: server.CertPEM, ServerName: "example.com"}})
	_, _, err = get(wrongName, srv.URL())
	wantHandshakeError(t, err)
}

func wantHandshakeError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, transport.ErrTLS) || !strings.Contains(err.Error(), "TLS handshake") {
		t.Errorf("error = %v (%T), want a transport.TLSError: ... TLS handshake ...", err, err)
	}
}

func TestNoServer(t *testing.T) {
	// A UDP port nobody reads: bind it, note it, close it.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	cfg := clientConfig(t)
	// Loopback answers with ICMP port unreachable at once, but a server
	// that vanished may not; the handshake timeout covers both. 2s is far
	// above a loopback round trip.
	cfg.TLSHandshakeTimeout = transport.Duration(2e9)
	c := newClient(t, cfg)
	_, _, err = get(c, "https://"+addr+"/")
	if !errors.Is(err, transport.ErrDial) || !strings.Contains(err.Error(), addr) {
		t.Errorf("error = %v (%T), want a transport.DialError naming %s", err, err, addr)
	}
}

// connCounter counts the QUIC connections a server accepts.
func connCounter(n *atomic.Int32) h3.ServerOption {
	return h3.WithServerHook(func(s *http3.Server, _ *quic.Config) {
		s.ConnContext = func(ctx context.Context, _ *quic.Conn) context.Context {
			n.Add(1)
			return ctx
		}
	})
}

func TestConnectionReuse(t *testing.T) {
	var conns atomic.Int32
	srv := startServer(t, serverConfig(t), http.HandlerFunc(protoHandler), connCounter(&conns))
	c := newClient(t, clientConfig(t))
	if _, _, err := get(c, srv.URL()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, _, err := get(c, srv.URL()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 21 requests, want 1", n)
	}

	// CloseIdleConnections drops the idle connection; the next call
	// reconnects.
	c.CloseIdleConnections()
	if _, _, err := get(c, srv.URL()); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections after CloseIdleConnections, want 2", n)
	}
}

// TestCloseIdleKeepsStreams checks that a connection carrying a stream
// whose response is still being read is not idle.
func TestCloseIdleKeepsStreams(t *testing.T) {
	srv := startServer(t, serverConfig(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "second\n")
	}))
	c := newClient(t, clientConfig(t))
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, srv.URL(), pr)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	c.CloseIdleConnections() // headers are in, body is not: not idle
	pw.Close()
	if rest, err := io.ReadAll(br); err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

func TestIdleTimeout(t *testing.T) {
	var conns atomic.Int32
	srv := startServer(t, serverConfig(t), http.HandlerFunc(protoHandler), connCounter(&conns))
	cfg := clientConfig(t)
	cfg.IdleTimeout = transport.Duration(1e6) // 1ms: expires at once, however slow the machine
	closed := make(chan struct{}, 10)
	c2 := newClient(t, cfg, h3.WithTransportHook(func(tr *http3.Transport, _ *quic.Config) {
		dial := tr.Dial
		tr.Dial = func(ctx context.Context, addr string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			conn, err := dial(ctx, addr, tc, qc)
			if err == nil {
				context.AfterFunc(conn.Context(), func() { closed <- struct{}{} })
			}
			return conn, err
		}
	}))
	if _, _, err := get(c2, srv.URL()); err != nil {
		t.Fatal(err)
	}
	<-closed // the idle timer closed the connection
	if _, _, err := get(c2, srv.URL()); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (one per idle period)", n)
	}
}

func TestTrailers(t *testing.T) {
	srv := startServer(t, serverConfig(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Declared")
		io.WriteString(w, "body")
		w.Header().Set("X-Declared", "d")
		w.Header().Set(http.TrailerPrefix+"X-Late", "l")
	}))
	c := newClient(t, clientConfig(t))
	req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(body) != "body" {
		t.Fatalf("body %q, %v", body, err)
	}
	if res.Trailer.Get("X-Declared") != "d" || res.Trailer.Get("X-Late") != "l" {
		t.Errorf("trailers = %v", res.Trailer)
	}
}

func TestMaxConcurrentStreams(t *testing.T) {
	var inFlight, most atomic.Int32
	entered := make(chan struct{}, 3)
	release := make(chan struct{})
	cfg := serverConfig(t)
	cfg.MaxConcurrentStreams = 2
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
	}))
	c := newClient(t, clientConfig(t))
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if code, _, err := get(c, srv.URL()); err != nil || code != http.StatusOK {
				t.Error(code, err)
			}
		})
	}
	<-entered
	<-entered
	close(release)
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("at most %d requests ran at once, want 2", m)
	}
}

func TestMaxHeaderBytes(t *testing.T) {
	cfg := serverConfig(t)
	cfg.MaxHeaderBytes = 1024
	srv := startServer(t, cfg, http.HandlerFunc(protoHandler))
	c := newClient(t, clientConfig(t))
	req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
	req.Header.Set("X-Big", strings.Repeat("x", 4096))
	res, err := c.Do(req)
	if err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Fatal("a 4 KiB header passed a 1 KiB limit")
		}
	}
	if code, _, err := get(c, srv.URL()); err != nil || code != http.StatusOK {
		t.Errorf("small request after a refused one: %d, %v", code, err)
	}
}

func TestHTTP2Companion(t *testing.T) {
	srv := startServer(t, serverConfig(t), http.HandlerFunc(protoHandler), h3.WithHTTP2Companion())
	server, _ := pki(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(server.CertPEM))
	var protocols http.Protocols
	protocols.SetHTTP2(true)
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, Protocols: &protocols}}
	defer h2.CloseIdleConnections()
	res, err := h2.Get(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	port := srv.Addr().(*net.UDPAddr).Port
	if want := fmt.Sprintf(`h3=":%d"; ma=86400`, port); res.Header.Get("Alt-Svc") != want {
		t.Errorf("Alt-Svc = %q, want %q", res.Header.Get("Alt-Svc"), want)
	}
	if string(body) != "HTTP/2.0 tls=true peer=-" {
		t.Errorf("companion answered %q", body)
	}
	// HTTP/3 on the same port still works.
	c := newClient(t, clientConfig(t))
	if _, body, err := get(c, srv.URL()); err != nil || body != "HTTP/3.0 tls=true peer=-" {
		t.Errorf("h3 = %q, %v", body, err)
	}
}

// Test0RTT checks that 0-RTT is off unless the server asks for it, and
// that the client never uses it: sessions resume, but without early data.
func Test0RTT(t *testing.T) {
	for _, tt := range []struct {
		name   string
		server []h3.ServerOption
		config bool // Config.Allow0RTT
	}{
		{name: "default"},
		{name: "server accepts 0-RTT", server: []h3.ServerOption{h3.WithServer0RTT()}},
		{name: "config allows 0-RTT", config: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var used0RTT, resumed atomic.Bool
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.TLS.DidResume {
					resumed.Store(true)
				}
			})
			var allowed bool
			hook := h3.WithServerHook(func(s *http3.Server, qc *quic.Config) {
				allowed = qc.Allow0RTT
				s.ConnContext = func(ctx context.Context, c *quic.Conn) context.Context {
					if c.ConnectionState().Used0RTT {
						used0RTT.Store(true)
					}
					return ctx
				}
			})
			scfg := serverConfig(t)
			scfg.Allow0RTT = tt.config
			srv := startServer(t, scfg, handler, append(tt.server, hook)...)
			cfg := clientConfig(t)
			cfg.TLSConfig, _ = cfg.ClientTLSConfig()
			cfg.TLSConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
			c := newClient(t, cfg)
			for range 2 {
				if code, _, err := get(c, srv.URL()); err != nil || code != http.StatusOK {
					t.Fatal(code, err)
				}
				c.CloseIdleConnections()
			}
			if allowed != (len(tt.server) > 0 || tt.config) {
				t.Errorf("server Allow0RTT = %t", allowed)
			}
			if used0RTT.Load() || !resumed.Load() {
				t.Errorf("0-RTT used %t, resumed %t; want false, true", used0RTT.Load(), resumed.Load())
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	server, _ := pki(t)
	ok := http.HandlerFunc(protoHandler)
	for _, tt := range []struct {
		name string
		cfg  transport.Config
		want string
	}{
		{"other name", transport.Config{Name: "h2", Addr: ":0", TLS: testpki.ServerTLS(server, nil)}, `not "h3"`},
		{"no address", transport.Config{TLS: testpki.ServerTLS(server, nil)}, "Addr is empty"},
		{"no certificate", transport.Config{Addr: ":0"}, "needs a certificate"},
		{"empty TLSConfig", transport.Config{Addr: ":0", TLSConfig: &tls.Config{}}, "no certificate"},
		{"negative streams", transport.Config{Addr: ":0", TLS: testpki.ServerTLS(server, nil), MaxConcurrentStreams: -1}, "negative"},
		{"bad PEM", transport.Config{Addr: ":0", TLS: &transport.TLSConfig{CertPEM: "x", KeyPEM: "y"}}, "tls.cert_pem"},
	} {
		if _, err := h3.NewServer(tt.cfg, ok); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewServer error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := h3.NewServer(serverConfig(t), nil); err == nil {
		t.Error("NewServer with a nil handler succeeded")
	}
	if _, err := h3.NewClient(transport.Config{Name: "h2c"}); err == nil {
		t.Error("NewClient named h2c succeeded")
	}
	if _, err := h3.NewClient(transport.Config{TLS: &transport.TLSConfig{CAPEM: "not PEM"}}); err == nil {
		t.Error("NewClient with a bad CA succeeded")
	}
}

func TestURLs(t *testing.T) {
	c := newClient(t, transport.Config{Addr: "example.com:8443"})
	if c.URL() != "https://example.com:8443" {
		t.Errorf("client URL = %q", c.URL())
	}
	if newClient(t, transport.Config{}).URL() != "" {
		t.Error("client without Addr has a URL")
	}
	cfg := serverConfig(t)
	cfg.Addr = ":0"
	srv, err := h3.NewServer(cfg, http.HandlerFunc(protoHandler))
	if err != nil {
		t.Fatal(err)
	}
	if srv.URL() != "" || srv.Addr() != nil {
		t.Error("URL or Addr set before Start")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") && !strings.HasPrefix(srv.URL(), "https://[::1]:") {
		t.Errorf("URL of a server on all interfaces = %q, want a loopback host", srv.URL())
	}
	if !strings.HasPrefix(srv.String(), "h3 server on ") {
		t.Errorf("String() = %q", srv.String())
	}
	if _, _, err := get(newClient(t, clientConfig(t)), srv.URL()); err != nil {
		t.Errorf("GET %s: %v", srv.URL(), err)
	}
}

func TestClientClosed(t *testing.T) {
	srv := startServer(t, serverConfig(t), http.HandlerFunc(protoHandler))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := h3.NewClient(clientConfig(t), h3.WithClientPacketConn(pc))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(c, srv.URL()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.WriteTo([]byte("x"), srv.Addr()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("socket after Close: write error %v, want net.ErrClosed", err)
	}
	_, _, err = get(c, srv.URL())
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Do after Close = %v", err)
	}
}

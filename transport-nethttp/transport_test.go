package nethttp_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
	"polyconnect.dev/transport-nethttp/certs"
)

func TestRegistered(t *testing.T) {
	names := transport.Names()
	for _, want := range []string{transport.NameHTTP1, transport.NameH2C, transport.NameH2} {
		if !slices.Contains(names, want) {
			t.Errorf("transport.Names() = %v, missing %q", names, want)
		}
	}
	// The registered transport builds its own name, whatever cfg.Name says.
	tr, ok := transport.Lookup(transport.NameH2C)
	if !ok {
		t.Fatal("h2c not registered")
	}
	srv, err := tr.NewServer(transport.Config{Addr: "127.0.0.1:0"}, http.HandlerFunc(protoHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client, err := transport.NewClient(transport.Config{Name: transport.NameH2C})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := client.(*nethttp.Client); !ok {
		t.Errorf("transport.NewClient returned %T", client)
	}
	res, err := client.Do(mustRequest(t, srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.ProtoMajor != 2 {
		t.Errorf("h2c through the registry spoke %s", res.Proto)
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestProtocols checks that each transport speaks what it says: http1
// stays on HTTP/1.1, h2c and h2 really negotiate HTTP/2, and TLS is used
// where configured.
func TestProtocols(t *testing.T) {
	t.Parallel()
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, s.server, http.HandlerFunc(protoHandler))
			wantScheme := "http://"
			if s.tls {
				wantScheme = "https://"
			}
			if !strings.HasPrefix(srv.URL(), wantScheme+"127.0.0.1:") {
				t.Errorf("URL = %q, want %s127.0.0.1:port", srv.URL(), wantScheme)
			}
			client := newClient(t, s.client)
			res, err := client.Do(mustRequest(t, srv.URL()+"/"))
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, res)
			if res.ProtoMajor != s.protoMajor {
				t.Errorf("client saw %s, want HTTP/%d", res.Proto, s.protoMajor)
			}
			want := fmt.Sprintf("%d tls=%t peer=", s.protoMajor, s.tls)
			if !strings.HasPrefix(body, want) {
				t.Errorf("server saw %q, want %q…", body, want)
			}
		})
	}
}

// TestCrossProtocol checks which server and client combinations work.
func TestCrossProtocol(t *testing.T) {
	t.Parallel()
	p := testPKI(t)
	tests := []struct {
		name       string
		server     transport.Config
		client     transport.Config
		protoMajor int // 0: the call must fail
	}{
		{"h2c server, http1 client", transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}, transport.Config{Name: "http1"}, 1},
		{"h2 server, http1 client over TLS", transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: p.ServerTLS()}, transport.Config{Name: "http1", TLS: p.ClientTLS()}, 1},
		{"http1 server, h2c client", transport.Config{Name: "http1", Addr: "127.0.0.1:0"}, transport.Config{Name: "h2c"}, 0},
		{"http1 TLS server, h2 client", transport.Config{Name: "http1", Addr: "127.0.0.1:0", TLS: p.ServerTLS()}, transport.Config{Name: "h2", TLS: p.ClientTLS()}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tt.server, http.HandlerFunc(protoHandler))
			client := newClient(t, tt.client)
			res, err := client.Do(mustRequest(t, srv.URL()))
			if tt.protoMajor == 0 {
				if err == nil {
					res.Body.Close()
					t.Fatalf("call succeeded over %s, want a failure", res.Proto)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.ProtoMajor != tt.protoMajor {
				t.Errorf("spoke %s, want HTTP/%d", res.Proto, tt.protoMajor)
			}
		})
	}
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	p := testPKI(t)
	other, err := certs.NewTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{transport.NameH2, transport.NameHTTP1} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			serverTLS := p.ServerTLS()
			serverTLS.RequireClientCert = true
			var served atomic.Int64
			srv := startServer(t, transport.Config{Name: name, Addr: "127.0.0.1:0", TLS: serverTLS}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				protoHandler(w, r)
			}))

			// Go clients send no certificate the server's CA list does not
			// name, so to reach the server's verification, force one.
			otherCert, err := tls.X509KeyPair(other.ClientCertPEM, other.ClientKeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			forced := &tls.Config{
				RootCAs: p.CertPool(),
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					return &otherCert, nil
				},
			}
			clients := []struct {
				name      string
				tls       *transport.TLSConfig
				tlsConfig *tls.Config
				ok        bool
			}{
				{"trusted client certificate", p.ClientTLS(), nil, true},
				{"no client certificate", &transport.TLSConfig{CAPEM: string(p.CAPEM)}, nil, false},
				{"client certificate from another CA", &transport.TLSConfig{CAPEM: string(p.CAPEM), CertPEM: string(other.ClientCertPEM), KeyPEM: string(other.ClientKeyPEM)}, nil, false},
				{"forced client certificate from another CA", nil, forced, false},
				{"server from an untrusted CA", other.ClientTLS(), nil, false},
			}
			for _, c := range clients {
				t.Run(c.name, func(t *testing.T) {
					client := newClient(t, transport.Config{Name: name, TLS: c.tls, TLSConfig: c.tlsConfig})
					before := served.Load()
					status, body, err := get(client, srv.URL())
					if !c.ok {
						// How the refusal shows depends on who notices first
						// (with TLS 1.3, the client may learn of it only
						// when it writes); what matters is that it fails
						// and the handler never runs.
						if err == nil {
							t.Fatalf("call succeeded (%d %s), want a TLS failure", status, body)
						}
						if n := served.Load() - before; n != 0 {
							t.Errorf("handler ran %d times for a refused client", n)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if !strings.HasSuffix(body, "peer=polyconnect test client") {
						t.Errorf("server saw %q, want the client certificate", body)
					}
				})
			}
		})
	}
}

func TestOptionalClientCert(t *testing.T) {
	t.Parallel()
	p := testPKI(t)
	// ClientCA without RequireClientCert: verified if sent, optional.
	srv := startServer(t, transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: p.ServerTLS()}, http.HandlerFunc(protoHandler))
	anonymous := newClient(t, transport.Config{Name: "h2", TLS: &transport.TLSConfig{CAPEM: string(p.CAPEM)}})
	if _, body, err := get(anonymous, srv.URL()); err != nil || !strings.HasSuffix(body, "peer=-") {
		t.Errorf("anonymous client: %q, %v", body, err)
	}
	identified := newClient(t, transport.Config{Name: "h2", TLS: p.ClientTLS()})
	if _, body, err := get(identified, srv.URL()); err != nil || !strings.HasSuffix(body, "peer=polyconnect test client") {
		t.Errorf("client with certificate: %q, %v", body, err)
	}
}

func TestTLSMinVersion(t *testing.T) {
	t.Parallel()
	p := testPKI(t)
	serverTLS := p.ServerTLS()
	serverTLS.MinVersion = "1.3"
	srv := startServer(t, transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: serverTLS},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, tlsVersionName(r.TLS.Version))
		}))
	client := newClient(t, transport.Config{Name: "h2", TLS: p.ClientTLS()})
	if _, body, err := get(client, srv.URL()); err != nil || body != "TLS 1.3" {
		t.Errorf("got %q, %v", body, err)
	}
}

// TestConnectionReuse checks the clients pool connections: HTTP/1.1
// reuses a keep-alive connection for calls in sequence, HTTP/2 carries
// concurrent calls on one connection.
func TestConnectionReuse(t *testing.T) {
	t.Parallel()
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			peers := map[string]bool{}
			srv := startServer(t, s.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				peers[r.RemoteAddr] = true
				mu.Unlock()
			}))
			client := newClient(t, s.client)
			for range 5 {
				if _, _, err := get(client, srv.URL()); err != nil {
					t.Fatal(err)
				}
			}
			if s.protoMajor == 2 {
				var wg sync.WaitGroup
				for range 20 {
					wg.Go(func() {
						if _, _, err := get(client, srv.URL()); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
			}
			mu.Lock()
			defer mu.Unlock()
			if len(peers) != 1 {
				t.Errorf("calls used %d connections, want 1: %v", len(peers), peers)
			}
		})
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	srv := startServer(t, transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}, http.RedirectHandler("/elsewhere", http.StatusFound))
	client := newClient(t, transport.Config{Name: "h2c"})
	status, _, err := get(client, srv.URL()+"/here")
	if err != nil || status != http.StatusFound {
		t.Errorf("got %d, %v; want the 302 itself", status, err)
	}
}

func TestClientDoesNotAskForGzip(t *testing.T) {
	t.Parallel()
	srv := startServer(t, transport.Config{Name: "http1", Addr: "127.0.0.1:0"},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "accept-encoding=%q", r.Header.Get("Accept-Encoding"))
		}))
	client := newClient(t, transport.Config{Name: "http1"})
	if _, body, err := get(client, srv.URL()); err != nil || body != `accept-encoding=""` {
		t.Errorf("got %s, %v", body, err)
	}
}

func TestClientURL(t *testing.T) {
	p := testPKI(t)
	tests := []struct {
		cfg  transport.Config
		want string
	}{
		{transport.Config{Name: "http1", Addr: "api.internal:8080"}, "http://api.internal:8080"},
		{transport.Config{Name: "http1", Addr: "api.internal:8443", TLS: p.ClientTLS()}, "https://api.internal:8443"},
		{transport.Config{Name: "h2c", Addr: "api.internal:8080"}, "http://api.internal:8080"},
		{transport.Config{Name: "h2", Addr: "api.internal:443"}, "https://api.internal:443"},
		{transport.Config{Name: "h2"}, ""},
	}
	for _, tt := range tests {
		c, err := nethttp.NewClient(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.URL(); got != tt.want {
			t.Errorf("%s %q: URL = %q, want %q", tt.cfg.Name, tt.cfg.Addr, got, tt.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	p := testPKI(t)
	h := http.HandlerFunc(protoHandler)
	serverTests := []struct {
		name string
		cfg  transport.Config
		h    http.Handler
		want string
	}{
		{"unknown name", transport.Config{Name: "h3", Addr: ":0"}, h, `"h3" is not one of`},
		{"nil handler", transport.Config{Name: "h2c", Addr: ":0"}, nil, "nil handler"},
		{"no address", transport.Config{Name: "h2c"}, h, "Addr is empty"},
		{"h2c with TLS", transport.Config{Name: "h2c", Addr: ":0", TLS: p.ServerTLS()}, h, `use "h2"`},
		{"h2 without TLS", transport.Config{Name: "h2", Addr: ":0"}, h, "needs a certificate"},
		{"bad TLS", transport.Config{Name: "h2", Addr: ":0", TLS: &transport.TLSConfig{CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.pem"}}, h, "nonexistent.pem"},
		{"TLSConfig without certificate", transport.Config{Name: "h2", Addr: ":0", TLSConfig: &tls.Config{}}, h, "no certificate"},
	}
	for _, tt := range serverTests {
		if _, err := nethttp.NewServer(tt.cfg, tt.h); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewServer, %s: %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
	clientTests := []struct {
		name string
		cfg  transport.Config
		want string
	}{
		{"unknown name", transport.Config{Name: "http2"}, `"http2" is not one of`},
		{"h2c with TLS", transport.Config{Name: "h2c", TLS: p.ClientTLS()}, `use "h2"`},
		{"bad TLS", transport.Config{Name: "h2", TLS: &transport.TLSConfig{CAPEM: "junk"}}, "ca_pem"},
	}
	for _, tt := range clientTests {
		if _, err := nethttp.NewClient(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewClient, %s: %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestServerDefaults(t *testing.T) {
	srv, err := nethttp.NewServer(transport.Config{Name: "h2c", Addr: ":0"}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer()
	if hs.ReadHeaderTimeout != nethttp.DefaultReadHeaderTimeout || hs.IdleTimeout != nethttp.DefaultServerIdleTimeout ||
		hs.MaxHeaderBytes != nethttp.DefaultMaxHeaderBytes || hs.ReadTimeout != 0 || hs.WriteTimeout != 0 {
		t.Errorf("defaults: ReadHeaderTimeout %v, IdleTimeout %v, MaxHeaderBytes %d, ReadTimeout %v, WriteTimeout %v",
			hs.ReadHeaderTimeout, hs.IdleTimeout, hs.MaxHeaderBytes, hs.ReadTimeout, hs.WriteTimeout)
	}
	if !hs.Protocols.HTTP1() || !hs.Protocols.UnencryptedHTTP2() || hs.Protocols.HTTP2() {
		t.Errorf("h2c server protocols = %v", hs.Protocols)
	}

	srv, err = nethttp.NewServer(transport.Config{
		Name:                 "h2c",
		Addr:                 ":0",
		ReadHeaderTimeout:    transport.Duration(time.Second),
		ReadTimeout:          transport.Duration(2 * time.Second),
		WriteTimeout:         transport.Duration(3 * time.Second),
		IdleTimeout:          -1, // none
		MaxHeaderBytes:       4096,
		MaxConcurrentStreams: 7,
	}, http.NotFoundHandler(), nethttp.WithServerHook(func(s *http.Server) { s.WriteTimeout = 4 * time.Second }))
	if err != nil {
		t.Fatal(err)
	}
	hs = srv.HTTPServer()
	if hs.ReadHeaderTimeout != time.Second || hs.ReadTimeout != 2*time.Second || hs.WriteTimeout != 4*time.Second ||
		hs.IdleTimeout != 0 || hs.MaxHeaderBytes != 4096 || hs.HTTP2.MaxConcurrentStreams != 7 {
		t.Errorf("configured: %+v", hs)
	}
}

func TestClientDefaults(t *testing.T) {
	for _, name := range []string{"http1", "h2c", "h2"} {
		c, err := nethttp.NewClient(transport.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		tr := c.HTTPClient().Transport.(*http.Transport)
		if tr.MaxIdleConnsPerHost != nethttp.DefaultMaxIdleConnsPerHost || tr.MaxIdleConns != nethttp.DefaultMaxIdleConns ||
			tr.IdleConnTimeout != nethttp.DefaultClientIdleTimeout || tr.TLSHandshakeTimeout != nethttp.DefaultTLSHandshakeTimeout ||
			!tr.DisableCompression {
			t.Errorf("%s client defaults: %+v", name, tr)
		}
		p := tr.Protocols
		switch name {
		case "http1":
			if !p.HTTP1() || p.HTTP2() || p.UnencryptedHTTP2() {
				t.Errorf("http1 protocols = %v", p)
			}
		case "h2c":
			if p.HTTP1() || p.HTTP2() || !p.UnencryptedHTTP2() || tr.Proxy != nil {
				t.Errorf("h2c protocols = %v, proxy set %t", p, tr.Proxy != nil)
			}
		case "h2":
			if p.HTTP1() || !p.HTTP2() || p.UnencryptedHTTP2() {
				t.Errorf("h2 protocols = %v", p)
			}
		}
	}

	c, err := nethttp.NewClient(transport.Config{
		Name:                "h2",
		IdleTimeout:         transport.Duration(time.Second),
		MaxIdleConnsPerHost: 3,
		MaxConnsPerHost:     4,
		PingInterval:        transport.Duration(5 * time.Second),
	}, nethttp.WithProxy(nil), nethttp.WithTransportHook(func(tr *http.Transport) { tr.MaxIdleConns = 9 }))
	if err != nil {
		t.Fatal(err)
	}
	tr := c.HTTPClient().Transport.(*http.Transport)
	if tr.IdleConnTimeout != time.Second || tr.MaxIdleConnsPerHost != 3 || tr.MaxConnsPerHost != 4 ||
		tr.HTTP2.SendPingTimeout != 5*time.Second || tr.Proxy != nil || tr.MaxIdleConns != 9 {
		t.Errorf("configured: %+v", tr)
	}
}

func TestWithDialer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}, http.HandlerFunc(protoHandler))
	var (
		mu     sync.Mutex
		dialed []string
		d      net.Dialer
	)
	client := newClient(t, transport.Config{Name: "h2c"}, nethttp.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		return d.DialContext(ctx, network, srv.Addr().String())
	}))
	// The URL's host is only a name; the dialer decides where to connect.
	if _, body, err := get(client, "http://service.example:1234/"); err != nil || !strings.HasPrefix(body, "2 ") {
		t.Fatalf("got %q, %v", body, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(dialed, []string{"service.example:1234"}) {
		t.Errorf("dialed %v", dialed)
	}
}

func TestWithListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, transport.Config{Name: "h2", TLS: testPKI(t).ServerTLS()}, http.HandlerFunc(protoHandler), nethttp.WithListener(ln))
	if srv.Addr().String() != ln.Addr().String() {
		t.Errorf("Addr = %v, want %v", srv.Addr(), ln.Addr())
	}
	client := newClient(t, transport.Config{Name: "h2", TLS: testPKI(t).ClientTLS()})
	if _, body, err := get(client, srv.URL()); err != nil || !strings.HasPrefix(body, "2 tls=true") {
		t.Errorf("got %q, %v", body, err)
	}

	// A listener given to a server that never starts is closed with it.
	unused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv2, err := nethttp.NewServer(transport.Config{Name: "http1"}, http.NotFoundHandler(), nethttp.WithListener(unused))
	if err != nil {
		t.Fatal(err)
	}
	srv2.Close()
	if _, err := unused.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on the unused listener after Close: %v", err)
	}
}

func TestAllInterfacesURL(t *testing.T) {
	t.Parallel()
	srv := startServer(t, transport.Config{Name: "h2c", Addr: ":0"}, http.HandlerFunc(protoHandler))
	u := srv.URL()
	if !strings.HasPrefix(u, "http://127.0.0.1:") && !strings.HasPrefix(u, "http://[::1]:") {
		t.Fatalf("URL = %q, want a loopback host", u)
	}
	if _, _, err := get(newClient(t, transport.Config{Name: "h2c"}), u); err != nil {
		t.Error(err)
	}
}

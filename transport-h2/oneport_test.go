package h2

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

// protoHandler answers with the protocol the request came in, whether it
// came over TLS (and with which ALPN), and the request body.
var protoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	tlsInfo := "cleartext"
	if r.TLS != nil {
		tlsInfo = "tls:" + r.TLS.NegotiatedProtocol
	}
	_, _ = io.WriteString(w, r.Proto+" "+tlsInfo+" "+string(body))
})

// netHTTPClient returns a net/http client limited to protocols, trusting
// the test CA.
func netHTTPClient(t *testing.T, http1, h2c, h2 bool) *http.Client {
	t.Helper()
	var p http.Protocols
	p.SetHTTP1(http1)
	p.SetUnencryptedHTTP2(h2c)
	p.SetHTTP2(h2)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(testPKI(t).caPEM))
	tr := &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func getBody(t *testing.T, c interface {
	Do(*http.Request) (*http.Response, error)
}, method, url, body string) string {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

func TestOnePortCleartext(t *testing.T) {
	ln := &countingListener{Listener: listenLoopback(t), n: new(atomic.Int32)}
	srv := startServer(t, transport.Config{Name: NameH2C}, protoHandler, WithListener(ln))
	url := srv.URL() + "/"

	if got := getBody(t, newClient(t, clientConfig(t, NameH2C)), "POST", url, "engine"); got != "HTTP/2.0 cleartext engine" {
		t.Errorf("h2c-rpc client: %q", got)
	}
	if got := getBody(t, netHTTPClient(t, false, true, false), "POST", url, "nethttp-h2c"); got != "HTTP/2.0 cleartext nethttp-h2c" {
		t.Errorf("net/http h2c client: %q", got)
	}

	// HTTP/1.1 with keep-alive: three requests, one connection.
	before := ln.n.Load()
	h1 := netHTTPClient(t, true, false, false)
	var reused atomic.Int32
	for i := range 3 {
		req, _ := http.NewRequest("POST", url, strings.NewReader("h1"))
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused.Add(1)
				}
			},
		}))
		resp, err := h1.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "HTTP/1.1 cleartext h1" {
			t.Errorf("HTTP/1.1 request %d: %q", i, b)
		}
	}
	if got := ln.n.Load() - before; got != 1 {
		t.Errorf("three HTTP/1.1 requests took %d connections, want 1 (keep-alive)", got)
	}
	if reused.Load() != 2 {
		t.Errorf("the client reused its connection %d times, want 2", reused.Load())
	}

	// A request shorter than the HTTP/2 preface, with nothing after it,
	// must not wait for more bytes.
	conn := dialTCP(t, srv)
	_, _ = io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n")
	b, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(b), "HTTP/1.0 200") || !strings.HasSuffix(string(b), "HTTP/1.0 cleartext ") {
		t.Errorf("an 18-byte HTTP/1.0 request got %q", b)
	}
}

func TestOnePortTLS(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2), protoHandler)
	url := srv.URL() + "/"

	if got := getBody(t, newClient(t, clientConfig(t, NameH2)), "POST", url, "engine"); got != "HTTP/2.0 tls:h2 engine" {
		t.Errorf("h2-rpc client: %q", got)
	}
	if got := getBody(t, netHTTPClient(t, false, false, true), "POST", url, "nethttp-h2"); got != "HTTP/2.0 tls:h2 nethttp-h2" {
		t.Errorf("net/http HTTP/2 client: %q", got)
	}
	// net/http's client limited to HTTP/1.1 offers no ALPN at all.
	if got := getBody(t, netHTTPClient(t, true, false, false), "POST", url, "h1"); got != "HTTP/1.1 tls: h1" {
		t.Errorf("net/http HTTP/1.1 client: %q", got)
	}
	// curl --http1.1 offers ALPN "http/1.1".
	h1alpn := netHTTPClient(t, true, false, false)
	h1alpn.Transport.(*http.Transport).TLSClientConfig.NextProtos = []string{"http/1.1"}
	if got := getBody(t, h1alpn, "POST", url, "h1"); got != "HTTP/1.1 tls:http/1.1 h1" {
		t.Errorf("HTTP/1.1 client with ALPN http/1.1: %q", got)
	}
	// A browser-like client offering both gets HTTP/2.
	if got := getBody(t, netHTTPClient(t, true, false, true), "GET", url, ""); got != "HTTP/2.0 tls:h2 " {
		t.Errorf("a client offering h2 and http/1.1: %q", got)
	}

	// A TLS client without ALPN: HTTP/1.1 (RFC 9113 asks HTTP/2 over TLS
	// to negotiate "h2"), and the handler still sees the TLS state.
	conn, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(b), "HTTP/1.1 200") || !strings.HasSuffix(string(b), "HTTP/1.1 tls: ") {
		t.Errorf("HTTP/1.1 over TLS without ALPN got %q", b)
	}

	// And with prior knowledge of HTTP/2 over TLS without ALPN, the engine.
	conn2, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	_, _ = io.WriteString(conn2, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	var hdr [9]byte
	if _, err := io.ReadFull(conn2, hdr[:]); err != nil || hdr[3] != 0x4 {
		t.Errorf("HTTP/2 prior knowledge over TLS without ALPN: frame header %x, %v; want the server's SETTINGS", hdr, err)
	}
}

// TestOnePortUpgradeH2C sends the HTTP/1.1 Upgrade to h2c, as curl --http2
// does on http:// URLs: the server ignores the upgrade, as RFC 9110 lets
// it, and answers in HTTP/1.1.
func TestOnePortUpgradeH2C(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), protoHandler)
	conn := dialTCP(t, srv)
	_, _ = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nContent-Length: 2\r\n\r\nup")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "HTTP/1.1 cleartext up" {
		t.Errorf("an Upgrade: h2c request got %d %q, want 200 and HTTP/1.1", resp.StatusCode, b)
	}
}

// TestOnePortSlowPreface checks that a client that sends part of a
// preface, or nothing, or part of an HTTP/1.1 request line, and then
// stalls, is closed by the header timeout instead of holding the
// connection forever.
func TestOnePortSlowPreface(t *testing.T) {
	for _, tt := range []struct{ name, send string }{
		{"nothing", ""},
		{"part of the HTTP/2 preface", "PRI * HTTP/2.0\r\n"},
		{"part of a request line", "GE"},
		{"request line without headers", "GET / HTTP/1.1\r\nHost: x\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serverConfig(t, NameH2C)
			// Short so that the test is quick; the read below waits up to
			// a minute, so the assertion does not depend on timing.
			cfg.ReadHeaderTimeout = transport.Duration(300 * time.Millisecond)
			srv := startServer(t, cfg, protoHandler)
			conn := dialTCP(t, srv)
			_, _ = io.WriteString(conn, tt.send)
			_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
			b, err := io.ReadAll(conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server held the connection for a minute (read %q)", b)
			}
			if strings.Contains(string(b), "200 OK") {
				t.Errorf("an incomplete request got %q", b)
			}
		})
	}
}

// TestOnePortGracefulShutdown checks that Shutdown lets an HTTP/1.1 and an
// HTTP/2 request in flight finish, closes idle HTTP/1.1 keep-alive
// connections, and returns once both sides have stopped.
func TestOnePortGracefulShutdown(t *testing.T) {
	started := make(chan string, 2)
	release := make(chan struct{})
	srv, err := NewServer(serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			started <- r.Proto
			<-release
		}
		_, _ = io.WriteString(w, r.Proto)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	url := srv.URL()

	// An idle keep-alive HTTP/1.1 connection.
	idle := dialTCP(t, srv)
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	idleR := bufio.NewReader(idle)
	resp, err := http.ReadResponse(idleR, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	type result struct {
		body string
		err  error
	}
	results := make(chan result, 2)
	for _, c := range []interface {
		Do(*http.Request) (*http.Response, error)
	}{netHTTPClient(t, true, false, false), newClient(t, clientConfig(t, NameH2C))} {
		go func() {
			req, _ := http.NewRequest("GET", url+"/block", nil)
			resp, err := c.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			results <- result{string(b), err}
		}()
	}
	protos := map[string]bool{recv(t, started, "a handler"): true, recv(t, started, "a handler"): true}
	if !protos["HTTP/1.1"] || !protos["HTTP/2.0"] {
		t.Fatalf("handlers saw %v", protos)
	}

	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()

	// The idle HTTP/1.1 connection is closed.
	_ = idle.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := idleR.ReadByte(); err == nil {
		t.Error("the idle HTTP/1.1 connection got more bytes instead of closing")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("Shutdown left the idle HTTP/1.1 connection open")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with two requests in flight", err)
	default:
	}
	close(release)
	got := map[string]bool{}
	for range 2 {
		r := recv(t, results, "a response")
		if r.err != nil {
			t.Errorf("a request in flight failed: %v", r.err)
		}
		got[r.body] = true
	}
	if !got["HTTP/1.1"] || !got["HTTP/2.0"] {
		t.Errorf("responses %v", got)
	}
	if err := recv(t, shut, "Shutdown"); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if c, err := net.Dial("tcp", srv.Addr().String()); err == nil {
		c.Close()
		t.Error("the port still accepts connections after Shutdown")
	}
}

// TestOnePortClose checks that Close ends an HTTP/1.1 request in flight.
func TestOnePortClose(t *testing.T) {
	started := make(chan struct{})
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", srv.URL()+"/", nil)
		resp, err := netHTTPClient(t, true, false, false).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	recv(t, started, "the handler")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, errc, "the client"); err == nil {
		t.Error("an HTTP/1.1 request survived Close")
	}
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func dialTCP(t *testing.T, srv *Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestOnePortNeitherProtocol checks that a connection whose first line is
// neither the HTTP/2 preface nor an HTTP/1.x request line is closed
// without an answer (RFC 9113 section 3.4, which h2spec checks), and that
// a first line longer than the header limit is not buffered without end.
func TestOnePortNeitherProtocol(t *testing.T) {
	cfg := serverConfig(t, NameH2C)
	cfg.MaxHeaderBytes = 8 << 10
	srv := startServer(t, cfg, protoHandler)
	for _, send := range []string{
		"INVALID CONNECTION PREFACE\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET /\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET " + strings.Repeat("a", 16<<10), // no line end within the limit
	} {
		conn := dialTCP(t, srv)
		_, _ = io.WriteString(conn, send)
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute)) // generous: the server closes at once
		b, err := io.ReadAll(conn)
		if len(b) > 0 || err != nil {
			t.Errorf("%.30q got %q, %v; want the connection closed without an answer", send, b, err)
		}
	}
}

// TestOnePortRequestLineInPieces sends an HTTP/1.1 request a byte at a
// time: the server must wait for the whole first line, then answer.
func TestOnePortRequestLineInPieces(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), protoHandler)
	conn := dialTCP(t, srv)
	for _, c := range []byte("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\npiece") {
		if _, err := conn.Write([]byte{c}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "HTTP/1.1 cleartext piece" {
		t.Errorf("got %d %q", resp.StatusCode, b)
	}
}

func TestIsHTTP1RequestLine(t *testing.T) {
	for line, want := range map[string]bool{
		"GET / HTTP/1.1":                   true,
		"OPTIONS * HTTP/1.0":               true,
		"POST /a%20b?c=d HTTP/1.1":         true,
		"CONNECT example.com:443 HTTP/1.1": true,
		"PRI * HTTP/2.0":                   false,
		"GET / HTTP/1.10":                  false,
		"GET /":                            false,
		" / HTTP/1.1":                      false,
		"GET HTTP/1.1":                     false,
		"G@T / HTTP/1.1":                   false,
		"":                                 false,
	} {
		if got := isHTTP1RequestLine([]byte(line)); got != want {
			t.Errorf("isHTTP1RequestLine(%q) = %v, want %v", line, got, want)
		}
	}
}

package nethttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

// The tests of this file check that the mistakes people make first get an
// error that says what to fix, on one line.

func oneLine(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans lines: %q", err)
	}
	return err.Error()
}

func TestPortInUse(t *testing.T) {
	first := startServer(t, transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}, http.NotFoundHandler())
	addr := first.Addr().String()
	second, err := transport.NewServer(transport.Config{Name: "h2c", Addr: addr}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	err = second.Start()
	msg := oneLine(t, err)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("errors.Is(%v, EADDRINUSE) is false", err)
	}
	for _, want := range []string{"nethttp: h2c server cannot listen on " + addr + ": address already in use", "choose another port"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestAddrWithScheme(t *testing.T) {
	for _, name := range []string{"http1", "h2c", "h2"} {
		cfg := transport.Config{Name: name, Addr: "http://127.0.0.1:8080"}
		_, err := transport.NewClient(cfg)
		if msg := oneLine(t, err); !strings.Contains(msg, `addr "http://127.0.0.1:8080" has a scheme: give host:port, such as "127.0.0.1:8080"`) {
			t.Errorf("%s client: %q", name, msg)
		}
		cfg.TLS = testPKI(t).ServerTLS()
		if name == "h2c" {
			cfg.TLS = nil
		}
		_, err = transport.NewServer(cfg, http.NotFoundHandler())
		if msg := oneLine(t, err); !strings.Contains(msg, "has a scheme") {
			t.Errorf("%s server: %q", name, msg)
		}
	}
}

func TestClientWithoutAddr(t *testing.T) {
	client := newClient(t, transport.Config{Name: "h2c"})
	// What rpc.NewClient(client, client.URL(), …) sends when URL() is "".
	req, err := http.NewRequest(http.MethodPost, client.URL()+"/connectrpc.eliza.v1.ElizaService/Say", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Do(req)
	msg := oneLine(t, err)
	for _, want := range []string{`request URL "/connectrpc.eliza.v1.ElizaService/Say" has no scheme and host`, "Config.Addr is empty", "set addr"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// TestH2CClientAtTLSPort: today's net/http says "unexpected EOF" or
// "connection reset by peer".
func TestH2CClientAtTLSPort(t *testing.T) {
	p := testPKI(t)
	srv := startServer(t, transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: p.ServerTLS()}, http.NotFoundHandler())
	addr := srv.Addr().String()
	client := newClient(t, transport.Config{Name: "h2c", Addr: addr})
	_, err := client.Do(mustRequest(t, client.URL()))
	msg := oneLine(t, err)
	for _, want := range []string{"nethttp: h2c client: the server at " + addr + " is a TLS port (it completed a TLS handshake)", `use "h2"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// TestH2CClientAtTLSAlert: a TLS server that answers the cleartext preface
// with an alert, as many do (Go's closes the connection instead).
func TestH2CClientAtTLSAlert(t *testing.T) {
	addr := fakeServer(t, []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46}) // fatal protocol_version alert
	client := newClient(t, transport.Config{Name: "h2c", Addr: addr})
	_, err := client.Do(mustRequest(t, client.URL()))
	if msg := oneLine(t, err); !strings.Contains(msg, `is a TLS port (it answered with TLS); use "h2"`) {
		t.Errorf("error %q", msg)
	}
}

func TestH2CClientAtHTTP1Server(t *testing.T) {
	srv := startServer(t, transport.Config{Name: "http1", Addr: "127.0.0.1:0"}, http.NotFoundHandler())
	client := newClient(t, transport.Config{Name: "h2c", Addr: srv.Addr().String()})
	_, err := client.Do(mustRequest(t, client.URL()))
	if msg := oneLine(t, err); !strings.Contains(msg, `answered in HTTP/1.x, not HTTP/2`) || !strings.Contains(msg, `use "http1"`) {
		t.Errorf("error %q", msg)
	}
}

func TestHTTP1ClientAtTLSPort(t *testing.T) {
	p := testPKI(t)
	srv := startServer(t, transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: p.ServerTLS()}, http.NotFoundHandler())
	client := newClient(t, transport.Config{Name: "http1", Addr: srv.Addr().String()})
	_, err := client.Do(mustRequest(t, client.URL()))
	if msg := oneLine(t, err); !strings.Contains(msg, "is a TLS port") || !strings.Contains(msg, "use https") {
		t.Errorf("error %q", msg)
	}
}

// TestPlain400Untouched checks that a real 400 HTTP/1.0 response, which
// only looks like a TLS port's at first, reaches the caller whole.
func TestPlain400Untouched(t *testing.T) {
	body := "Client sent a bad request, and this is not about TLS at all."
	addr := fakeServer(t, []byte("HTTP/1.0 400 Bad Request\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body))
	client := newClient(t, transport.Config{Name: "http1", Addr: addr})
	res, err := client.Do(mustRequest(t, client.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil || string(got) != body || res.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, body %q, %v", res.StatusCode, got, err)
	}
}

// TestServerLogsToConfigLogger checks that net/http's own lines, HTTP/2's
// included, go to Config.Logger and not to the standard logger.
func TestServerLogsToConfigLogger(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	p := testPKI(t)
	start := func(cfg transport.Config) transport.Server {
		srv, err := transport.NewServer(cfg, http.NotFoundHandler()) // the registry's way: no Go options
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
	h2 := start(transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: p.ServerTLS(), Logger: logger})
	h2c := start(transport.Config{Name: "h2c", Addr: "127.0.0.1:0", Logger: logger})

	// Cleartext at the TLS port: "http: TLS handshake error".
	send(t, h2.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	// At the h2c port, the HTTP/2 preface followed by a DATA frame where
	// SETTINGS must come: "http2: server connection error … PROTOCOL_ERROR".
	send(t, h2c.Addr().String(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x01")

	deadline := time.Now().Add(10 * time.Second) // the server logs after the connection ends
	for {
		mu.Lock()
		got := buf.String()
		mu.Unlock()
		if strings.Contains(got, "TLS handshake error") && strings.Contains(got, "http2: server connection error") {
			for _, want := range []string{"level=WARN", "transport=h2\n", "transport=h2c\n"} {
				if !strings.Contains(got, want) {
					t.Errorf("log %q lacks %q", got, want)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the logger got %q; want a TLS handshake error and an http2 line", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// send writes s to addr and reads until the server closes the connection.
func send(t *testing.T, addr, s string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, s); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, conn)
}

// fakeServer accepts connections on loopback and answers each with reply,
// then closes it, until the test ends.
func fakeServer(t *testing.T, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 1024)
				_, _ = conn.Read(buf) // the request, or the start of it
				_, _ = conn.Write(reply)
				if tcp, ok := conn.(*net.TCPConn); ok {
					_ = tcp.CloseWrite()
				}
				<-ctx.Done()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestHTTP1UploadToTLSPort: a streaming upload to a TLS port fails on
// write ("broken pipe") while the server's complaint is in flight; the
// error still says what is wrong.
func TestHTTP1UploadToTLSPort(t *testing.T) {
	p := testPKI(t)
	srv := startServer(t, transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: p.ServerTLS()}, http.NotFoundHandler())
	client := newClient(t, transport.Config{Name: "http1", Addr: srv.Addr().String()})
	req, err := http.NewRequest(http.MethodPost, client.URL()+"/upload", io.LimitReader(zeros{}, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err == nil {
		res.Body.Close()
	}
	if msg := oneLine(t, err); !strings.Contains(msg, "is a TLS port") {
		t.Errorf("error %q", msg)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestH2CClientAtSilentServer: a server that closes the connection and
// is not a TLS port either.
func TestH2CClientAtSilentServer(t *testing.T) {
	addr := fakeServer(t, nil)
	client := newClient(t, transport.Config{Name: "h2c", Addr: addr})
	_, err := client.Do(mustRequest(t, client.URL()))
	if msg := oneLine(t, err); !strings.Contains(msg, "closed the connection at the HTTP/2 preface without a word; it does not speak h2c") {
		t.Errorf("error %q", msg)
	}
}

package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"polyconnect.dev/conformance/internal/grpcinterop"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/transport-nethttp/certs"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-port", "1234", "-use_tls", "-tls_cert_file", "c.pem", "-tls_key_file", "k.pem"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.port != 1234 || !cfg.useTLS || cfg.certFile != "c.pem" || cfg.keyFile != "k.pem" {
		t.Errorf("parsed %+v", cfg)
	}
	cfg, err = parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.port != 10000 || cfg.useTLS || cfg.host != "" {
		t.Errorf("defaults %+v, want port 10000 without TLS on all interfaces", cfg)
	}
	for _, args := range [][]string{
		{"-port", "-1"},
		{"-port", "70000"},
		{"-use_tls", "-tls_cert_file", "c.pem"},
		{"-use_tls", "-tls_key_file", "k.pem"},
		{"-tls_cert_file", "c.pem", "-tls_key_file", "k.pem"},
		{"-tls_ca_out", "ca.pem"},
		{"-use_tls", "-tls_cert_file", "c.pem", "-tls_key_file", "k.pem", "-tls_ca_out", "ca.pem"},
		{"-no_such_flag"},
		{"-http2", "h3"},
		{"extra"},
	} {
		var out strings.Builder
		if _, err := parseFlags(args, &out); err == nil {
			t.Errorf("parseFlags(%q) succeeded", args)
		} else if !strings.Contains(out.String(), "usage:") {
			t.Errorf("parseFlags(%q) printed %q, want the usage", args, out.String())
		}
	}
}

// startServer runs the server as main does, until the test ends, and
// returns its address.
func startServer(t *testing.T, cfg config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, cfg, func(a net.Addr) { addrc <- a.String() }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case err := <-errc:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start")
	}
	return ""
}

func runCases(t *testing.T, tc transport.Config, names ...string) {
	t.Helper()
	hc, err := transport.NewClient(tc)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	c := grpcinterop.NewClient(hc, hc.URL(), rpc.WithProtocol(rpc.ProtocolGRPC))
	for _, name := range names {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := grpcinterop.TestCases[name](ctx, c); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		cancel()
	}
}

func TestServeH2C(t *testing.T) {
	addr := startServer(t, config{host: "127.0.0.1", port: 0})
	runCases(t, transport.Config{Name: "h2c", Addr: addr}, "large_unary", "ping_pong", "unimplemented_service")
}

// TestServeH2Engine serves on transport-h2 (-http2 h2) and calls with its
// client, cleartext and over TLS.
func TestServeH2Engine(t *testing.T) {
	addr := startServer(t, config{host: "127.0.0.1", port: 0, http2: "h2"})
	runCases(t, transport.Config{Name: "h2c-rpc", Addr: addr}, "large_unary", "ping_pong", "custom_metadata")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	addr = startServer(t, config{host: "127.0.0.1", port: 0, useTLS: true, caOut: caFile, http2: "h2"})
	_, port, _ := net.SplitHostPort(addr)
	runCases(t, transport.Config{
		Name: "h2-rpc",
		Addr: net.JoinHostPort("localhost", port),
		TLS:  &transport.TLSConfig{CAFile: caFile},
	}, "empty_unary", "server_streaming")
}

func TestServeTestPKI(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	addr := startServer(t, config{host: "127.0.0.1", port: 0, useTLS: true, caOut: caFile})
	_, port, _ := net.SplitHostPort(addr)
	runCases(t, transport.Config{
		Name: "h2",
		Addr: net.JoinHostPort("localhost", port),
		TLS:  &transport.TLSConfig{CAFile: caFile},
	}, "empty_unary", "custom_metadata")
}

func TestServeCertFiles(t *testing.T) {
	pki, err := certs.NewTestPKI("interop.test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := config{
		host: "127.0.0.1", useTLS: true,
		certFile: write("server.pem", pki.ServerCertPEM),
		keyFile:  write("server.key", pki.ServerKeyPEM),
	}
	addr := startServer(t, cfg)
	runCases(t, transport.Config{
		Name: "h2",
		Addr: addr,
		TLS:  &transport.TLSConfig{CAPEM: string(pki.CAPEM), ServerName: "interop.test"},
	}, "status_code_and_message")
}

func TestServeBadCertFile(t *testing.T) {
	dir := t.TempDir()
	err := run(context.Background(), config{
		host: "127.0.0.1", useTLS: true,
		certFile: filepath.Join(dir, "missing.pem"), keyFile: filepath.Join(dir, "missing.key"),
	}, func(net.Addr) { t.Error("ready with missing certificate files") })
	if err == nil {
		t.Fatal("run with missing certificate files succeeded")
	}
}

func TestServeBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	err = run(context.Background(), config{host: "127.0.0.1", port: port}, func(net.Addr) {
		t.Error("ready on a busy port")
	})
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("run on busy port %d: %v", port, err)
	}
}

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"polyconnect.dev/conformance/internal/grpcinterop"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
	"polyconnect.dev/transport-nethttp/certs"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.host != "localhost" || cfg.port != 10000 || !slices.Equal(cfg.testCases, []string{"large_unary"}) || cfg.protocol != rpc.ProtocolGRPC || cfg.useTLS {
		t.Errorf("defaults %+v", cfg)
	}
	cfg, err = parseFlags([]string{
		"-server_host", "127.0.0.1", "-server_port", "443", "-use_tls", "-use_test_ca", "-ca_file", "ca.pem",
		"-server_host_override", "foo.test", "-test_case", "empty_unary, ping_pong,empty_unary", "-protocol", "grpcweb",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.host != "127.0.0.1" || cfg.port != 443 || !cfg.useTLS || cfg.caFile != "ca.pem" || cfg.hostOverride != "foo.test" || cfg.protocol != rpc.ProtocolGRPCWeb {
		t.Errorf("parsed %+v", cfg)
	}
	if want := []string{"empty_unary", "ping_pong"}; !slices.Equal(cfg.testCases, want) {
		t.Errorf("test cases %q, want %q", cfg.testCases, want)
	}
	cfg, err = parseFlags([]string{"-test_case", "all"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.testCases, grpcinterop.TestCaseNames()) {
		t.Errorf("all: %q", cfg.testCases)
	}
	for _, args := range [][]string{
		{"-test_case", "no_such_case"},
		{"-test_case", "large_unary,"},
		{"-server_port", "0"},
		{"-protocol", "soap"},
		{"-use_tls", "-use_test_ca"},
		{"-ca_file", "ca.pem"},
		{"-server_host_override", "foo.test"},
		{"-timeout", "0s"},
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

func startServer(t *testing.T, tc transport.Config) (host string, port int) {
	t.Helper()
	srv, err := nethttp.NewServer(tc, grpcinterop.NewHandler(&grpcinterop.Server{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	a := srv.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func TestRun(t *testing.T) {
	host, port := startServer(t, transport.Config{Name: "h2c", Addr: "127.0.0.1:0"})
	for _, protocol := range []string{"grpc", "grpcweb", "connect"} {
		t.Run(protocol, func(t *testing.T) {
			cfg, err := parseFlags([]string{
				"-server_host", host, "-server_port", strconv.Itoa(port), "-protocol", protocol,
				"-test_case", "empty_unary,server_streaming,server_compressed_unary",
			}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			failed, err := run(context.Background(), cfg, &out)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if failed != 0 || len(lines) != 3 ||
				!strings.HasPrefix(lines[0], "PASS empty_unary (") ||
				!strings.HasPrefix(lines[1], "PASS server_streaming (") ||
				!strings.HasPrefix(lines[2], "PASS server_compressed_unary (") {
				t.Errorf("%d failed, output:\n%s", failed, out.String())
			}
		})
	}
}

// A case that fails is reported as FAIL and counted.
func TestRunReportsFailures(t *testing.T) {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer broken.Close()
	u, err := url.Parse(broken.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags([]string{
		"-server_host", u.Hostname(), "-server_port", u.Port(), "-protocol", "connect",
		"-test_case", "empty_unary",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	failed, err := run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if failed != 1 || !strings.HasPrefix(out.String(), "FAIL empty_unary (") {
		t.Errorf("%d failed, output:\n%s", failed, out.String())
	}
}

func TestRunTLS(t *testing.T) {
	pki, err := certs.NewTestPKI("interop.test")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pki.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port := startServer(t, transport.Config{Name: "h2", Addr: "127.0.0.1:0", TLS: pki.ServerTLS()})
	args := []string{"-server_host", host, "-server_port", strconv.Itoa(port), "-use_tls", "-use_test_ca", "-ca_file", caFile, "-test_case", "custom_metadata"}
	cfg, err := parseFlags(append(args, "-server_host_override", "interop.test"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if failed, err := run(context.Background(), cfg, &out); err != nil || failed != 0 {
		t.Errorf("run: %d failed, %v; output:\n%s", failed, err, out.String())
	}

	// Without the override, the certificate does not match 127.0.0.1.
	cfg, err = parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if failed, err := run(context.Background(), cfg, &out); err != nil || failed != 1 || !strings.Contains(out.String(), "certificate") {
		t.Errorf("run without -server_host_override: %d failed, %v; output:\n%s", failed, err, out.String())
	}
}

func TestRunUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg, err := parseFlags([]string{"-server_host", "127.0.0.1", "-server_port", strconv.Itoa(port), "-test_case", "empty_unary"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if failed, err := run(context.Background(), cfg, &out); err != nil || failed != 1 || !strings.HasPrefix(out.String(), "FAIL empty_unary") {
		t.Errorf("run against a closed port: %d failed, %v; output:\n%s", failed, err, out.String())
	}
}

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/transport-nethttp/certs"
)

// requireTools reports whether a missing tool fails the test rather than
// skipping it: scripts/test.sh (and so CI) sets POLYCONNECT_REQUIRE_TOOLS=1
// after installing the tools.
func requireTools() bool { return os.Getenv("POLYCONNECT_REQUIRE_TOOLS") == "1" }

// toolPath finds a tool on PATH or in the repository's .tools/bin.
func toolPath(t *testing.T, name, installer string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p, _ := filepath.Abs(filepath.Join("..", "..", "..", ".tools", "bin", name))
	if info, err := os.Stat(p); err == nil && !info.IsDir() {
		return p
	}
	if requireTools() {
		t.Fatalf("%s is missing: install it with `bash %s` (required: POLYCONNECT_REQUIRE_TOOLS=1)", name, installer)
	}
	t.Skipf("%s is missing: install it with `bash %s`", name, installer)
	return ""
}

// TestToolsWithoutProtos points grpcurl and buf curl at Eliza with no .proto
// file at hand: reflection describes the services, health answers probes.
func TestToolsWithoutProtos(t *testing.T) {
	grpcurl := toolPath(t, "grpcurl", "scripts/tools-grpcurl.sh")
	buf := toolPath(t, "buf", "scripts/tools.sh")
	srv, err := transport.NewServer(transport.Config{Name: transport.NameH2C, Addr: "127.0.0.1:0"}, newHandler(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	addr := srv.Addr().String()

	// Each tool gets a generous minute: the machine may be busy, and a
	// hang shows as a failure rather than a stuck test.
	tool := func(path string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(path), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	checks := []struct {
		out  string
		want []string
	}{
		{tool(grpcurl, "-plaintext", addr, "list"), []string{elizaService, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"}},
		{tool(grpcurl, "-plaintext", addr, "describe", elizaService), []string{"rpc Say", "rpc Converse", "rpc Introduce"}},
		{tool(grpcurl, "-plaintext", "-d", `{"sentence": "I feel happy"}`, addr, elizaService+"/Say"), []string{`"sentence"`}},
		{tool(grpcurl, "-plaintext", addr, "grpc.health.v1.Health/Check"), []string{"SERVING"}},
		{tool(buf, "curl", "--http2-prior-knowledge", "--data", `{"sentence": "hello"}`, "http://"+addr+"/"+elizaService+"/Say"), []string{`"sentence"`}},
		{tool(buf, "curl", "--http2-prior-knowledge", "--protocol", "grpc", "--data", `{"name": "Ada"}`, "http://"+addr+"/"+elizaService+"/Introduce"), []string{`"sentence"`}},
	}
	for _, c := range checks {
		for _, w := range c.want {
			if !strings.Contains(c.out, w) {
				t.Errorf("output lacks %q:\n%s", w, c.out)
			}
		}
	}
}

// TestCurlOnOnePort calls the default server (h2c-rpc, and h2-rpc with a
// throw-away certificate) with curl in every HTTP version it offers, on
// one port: HTTP/1.1, the HTTP/1.1 Upgrade to h2c (answered in HTTP/1.1),
// HTTP/2 with prior knowledge, and over TLS HTTP/1.1 and HTTP/2 by ALPN.
func TestCurlOnOnePort(t *testing.T) {
	curl := toolPath(t, "curl", "scripts/tools.sh")
	pki, err := certs.NewTestPKI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	start := func(cfg transport.Config) string {
		t.Helper()
		srv, err := transport.NewServer(cfg, newHandler(nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		return srv.URL()
	}
	plain := start(transport.Config{Name: defaultTransport, Addr: "127.0.0.1:0"})
	secure := start(transport.Config{Name: defaultTLSTransport, Addr: "127.0.0.1:0", TLS: pki.ServerTLS()})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pki.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		url, flag, version string
	}{
		{plain, "--http1.1", "1.1"},
		{plain, "--http2", "1.1"}, // Upgrade: h2c, ignored
		{plain, "--http2-prior-knowledge", "2"},
		{secure, "--http1.1", "1.1"},
		{secure, "--http2", "2"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // generous: a busy machine
		out, err := exec.CommandContext(ctx, curl, "-sS", "--cacert", caFile, tt.flag,
			"-H", "Content-Type: application/json", "-d", `{"sentence": "Hello"}`,
			"-w", "\n%{http_version} %{http_code}", tt.url+"/connectrpc.eliza.v1.ElizaService/Say").CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("curl %s %s: %v\n%s", tt.flag, tt.url, err, out)
			continue
		}
		if want := "\n" + tt.version + " 200"; !strings.HasSuffix(string(out), want) || !strings.Contains(string(out), `"sentence"`) {
			t.Errorf("curl %s %s: %q, want a sentence and HTTP %s 200", tt.flag, tt.url, out, tt.version)
		}
	}
}

// TestBufCurlHTTP3Reflection checks that buf curl reaches reflection over
// HTTP/3: with no .proto file and only --http3, it lists the methods and
// calls one.
func TestBufCurlHTTP3Reflection(t *testing.T) {
	buf := toolPath(t, "buf", "scripts/tools.sh")
	url := server(t, "-transport", "h3", "-self-signed")
	tool := func(args ...string) string {
		t.Helper()
		// A generous minute each: the machine may be busy, and a hang
		// shows as a failure rather than a stuck test.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, buf, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("buf %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := tool("curl", "--http3", "--insecure", "--list-methods", url); !strings.Contains(out, elizaService+"/Say") || !strings.Contains(out, "grpc.health.v1.Health/Check") {
		t.Errorf("--list-methods over HTTP/3:\n%s", out)
	}
	if out := tool("curl", "--http3", "--insecure", "--data", `{"sentence": "hello"}`, url+"/"+elizaService+"/Say"); !strings.Contains(out, `"sentence"`) {
		t.Errorf("Say over HTTP/3:\n%s", out)
	}
}

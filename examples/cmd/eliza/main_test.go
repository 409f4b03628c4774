package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/transport-nethttp/certs"
)

// TestDemo runs the quick start and checks the table: every registered
// transport, every protocol it carries, every method, all ok.
func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	want := 0
	for _, name := range transport.Names() {
		for _, p := range protocolsFor(name) {
			for _, method := range []string{"Say", "Introduce", "Confide", "Converse"} {
				want++
				row := regexp.MustCompile(`(?m)^` + name + `\s+HTTP/[23]\S*\s+` + p.String() + `\s+` + method + `\s+ok\s`)
				if name == transport.NameHTTP1 {
					row = regexp.MustCompile(`(?m)^` + name + `\s+HTTP/1.1\s+` + p.String() + `\s+` + method + `\s+ok\s`)
				}
				if !row.MatchString(s) {
					t.Errorf("no ok row for %s %s %s", name, p, method)
				}
			}
		}
		if !servesHTTP1(name) {
			continue
		}
		// The one-port servers answered an HTTP/1.1 client too.
		for _, p := range protocolsFor(transport.NameHTTP1) {
			for _, method := range []string{"Say", "Introduce", "Confide", "Converse"} {
				want++
				row := regexp.MustCompile(`(?m)^` + name + `\s+HTTP/1.1\s+` + p.String() + `\s+` + method + `\s+ok\s`)
				if !row.MatchString(s) {
					t.Errorf("no ok HTTP/1.1 row for %s %s %s", name, p, method)
				}
			}
		}
	}
	if !strings.Contains(s, fmt.Sprintf("all %d calls succeeded", want)) {
		t.Errorf("summary missing for %d calls:\n%s", want, s)
	}
	for _, fragment := range []string{
		"http1      HTTP/1.1  connect   Say", // the transport spoke what it says
		"h2         HTTP/2.0",
		"GET, \"",              // Say over Connect uses GET
		"3 turns, full duplex", // bidi over HTTP/2
		"3 turns, half duplex", // bidi over HTTP/1.1
		"5 messages, \"Hi Ada, I'm Eliza.\"",
	} {
		if !strings.Contains(s, fragment) {
			t.Errorf("output lacks %q:\n%s", fragment, s)
		}
	}
	if errOut.Len() > 0 {
		t.Errorf("the demo wrote to stderr: %s", errOut.String())
	}
}

// server runs eliza -serve with args until the test ends and returns the
// URL it serves at.
func server(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"-serve", "-addr", "127.0.0.1:0"}, args...), pw, &errOut)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("eliza -serve exited %d: %s", code, errOut.String())
		}
	})
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		cancel()
		t.Fatalf("eliza -serve printed nothing; stderr: %s", errOut.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }() // the rest of its output
	m := regexp.MustCompile(`at (\S+) \(interrupt to stop\)`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("unexpected first line %q", lines.Text())
	}
	return m[1]
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client runs eliza with args and returns its exit status and output.
func client(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestServeAndCall(t *testing.T) {
	for _, name := range []string{"http1", "h2c"} {
		url := server(t, "-transport", name)
		code, out, errOut := client(t, "-url", url, "-transport", name)
		if code != 0 || !strings.Contains(out, "calls succeeded") {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errOut)
		}
	}
}

// TestServeDefault serves with no -transport: HTTP/2 on transport-h2's
// engine, which HTTP/2 and HTTP/1.1 clients reach on the same port.
func TestServeDefault(t *testing.T) {
	url := server(t)
	code, out, errOut := client(t, "-url", url)
	if code != 0 || !strings.Contains(out, "all 12 calls succeeded") || !strings.Contains(out, "h2c-rpc    HTTP/2.0") {
		t.Errorf("HTTP/2 client: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = client(t, "-url", url, "-transport", "http1", "-protocol", "connect,grpcweb")
	if code != 0 || !strings.Contains(out, "all 8 calls succeeded") || !strings.Contains(out, "http1      HTTP/1.1") {
		t.Errorf("HTTP/1.1 client on the same port: exit %d\n%s%s", code, out, errOut)
	}
}

func TestServeSelfSigned(t *testing.T) {
	url := server(t, "-transport", "h2", "-self-signed")
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("URL %s", url)
	}
	code, out, errOut := client(t, "-url", url, "-insecure", "-protocol", "grpc,connect")
	if code != 0 || !strings.Contains(out, "all 8 calls succeeded") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// writer returns a function that writes a file in dir and returns its path.
func writer(t *testing.T, dir string) func(name, content string) string {
	return func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
}

// TestConfigFiles serves from a YAML config with certificate files and
// calls with a JSON client config that trusts the CA.
func TestConfigFiles(t *testing.T) {
	pki, err := certs.NewTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := writer(t, dir)
	cert, key, ca := write("cert.pem", string(pki.ServerCertPEM)), write("key.pem", string(pki.ServerKeyPEM)), write("ca.pem", string(pki.CAPEM))
	serverYAML := write("server.yaml", "name: h2\naddr: 127.0.0.1:0\nidle_timeout: 30s\ntls:\n  cert_file: "+cert+"\n  key_file: "+key+"\n")
	url := server(t, "-config", serverYAML)
	addr := strings.TrimPrefix(url, "https://")
	clientJSON := write("client.json", `{"name": "h2", "addr": "`+addr+`", "tls": {"ca_file": "`+ca+`"}}`)
	code, out, errOut := client(t, "-config", clientJSON)
	if code != 0 || !strings.Contains(out, "all 12 calls succeeded") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestFrontDoorErrors checks that each of the first mistakes is one line
// on stderr, with a non-zero exit and a hint of what to fix.
func TestFrontDoorErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	write := writer(t, dir)
	tlsURL := server(t, "-transport", "h2", "-self-signed")
	tlsAddr := strings.TrimPrefix(tlsURL, "https://")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"port in use", []string{"-serve", "-addr", busy.Addr().String()}, 1,
			"eliza: h2: h2c-rpc server cannot listen on " + busy.Addr().String() + ": address already in use"},
		{"unknown transport", []string{"-serve", "-transport", "h4"}, 1,
			`eliza: transport: unknown transport "h4" (registered: `},
		{"missing certificate", []string{"-serve", "-transport", "h2", "-addr", "127.0.0.1:0"}, 1,
			`needs a certificate: set tls.cert_file and tls.key_file`},
		{"certificate file missing", []string{"-serve", "-config", write("nocert.yaml", "name: h2\naddr: 127.0.0.1:0\ntls:\n  cert_file: "+filepath.Join(dir, "nope.pem")+"\n  key_file: "+filepath.Join(dir, "nope-key.pem")+"\n")}, 1,
			"eliza: transport: tls.cert_file: open " + filepath.Join(dir, "nope.pem") + ": no such file or directory"},
		{"client config without addr", []string{"-config", write("noaddr.yaml", "name: h2c\n")}, 2,
			"eliza: no server to call: give -url, or addr in the -config file"},
		{"client addr with a scheme", []string{"-config", write("scheme.yaml", "name: h2c\naddr: http://127.0.0.1:8080\n")}, 1,
			`eliza: transport: addr "http://127.0.0.1:8080" has a scheme: give host:port, such as "127.0.0.1:8080"`},
		{"server addr with a scheme", []string{"-serve", "-addr", "http://127.0.0.1:8080"}, 1,
			`has a scheme: give host:port`},
		{"misspelt config field", []string{"-serve", "-config", write("typo.yaml", "name: h2c\nadr: 127.0.0.1:0\n")}, 1,
			`typo.yaml: line 2: unknown key "adr" (transport.Config has no such field; did you mean "addr"?)`},
		{"misspelt nested field", []string{"-serve", "-config", write("typo2.yaml", "name: h2\naddr: 127.0.0.1:0\ntls:\n  cert_flie: x\n")}, 1,
			`typo2.yaml: line 4: unknown key "tls.cert_flie" (transport.TLSConfig has no such field; did you mean "cert_file"?)`},
		{"misspelt JSON field", []string{"-serve", "-config", write("typo.json", "{\n  \"name\": \"h2c\",\n  \"idle_timout\": \"5s\"\n}\n")}, 1,
			`typo.json: line 3: unknown key "idle_timout" (transport.Config has no such field; did you mean "idle_timeout"?)`},
		{"empty config", []string{"-serve", "-config", write("empty.yaml", "")}, 1,
			"is empty"},
		{"h2c client at a TLS port", []string{"-url", "http://" + tlsAddr, "-transport", "h2c", "-protocol", "connect"}, 1,
			"eliza: 4 of 4 calls failed"},
		{"unknown flag", []string{"-bogus"}, 2,
			"eliza: flag provided but not defined: -bogus (see eliza -help)"},
		{"unknown protocol", []string{"-url", "http://127.0.0.1:1", "-protocol", "soap"}, 2,
			`unknown protocol "soap"`},
	}
	for _, tt := range tests {
		code, out, errOut := client(t, tt.args...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", tt.name, code, tt.code, out, errOut)
		}
		if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: stderr %q, want one line with %q", tt.name, errOut, tt.want)
		}
		if strings.Contains(errOut, "goroutine ") || strings.Contains(out, "goroutine ") {
			t.Errorf("%s: a stack trace:\n%s%s", tt.name, out, errOut)
		}
	}

	// The h2c client at a TLS port says why each call failed, whole,
	// under the table.
	_, out, _ := client(t, "-url", "http://"+tlsAddr, "-transport", "h2c", "-protocol", "connect")
	if want := `nethttp: h2c client: the server at ` + tlsAddr + ` is a TLS port (it completed a TLS handshake); use "h2"`; strings.Count(out, want) != 4 {
		t.Errorf("the failed calls do not say %q:\n%s", want, out)
	}
}

// TestHTTP1BidiThenNextCall runs a Connect bidi call that Eliza ends early
// (at the goodbye) followed by another call on the same HTTP/1.1
// connection, many times: see drainHTTP1 for the fault it guards against.
func TestHTTP1BidiThenNextCall(t *testing.T) {
	url := server(t, "-transport", "http1")
	hc, err := transport.NewClient(transport.Config{Name: transport.NameHTTP1, MaxConnsPerHost: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 30 {
		// Connect's Converse, then gRPC-Web's Say: a POST, which net/http
		// does not retry on a fresh connection as it would a GET.
		for _, p := range protocolsFor(transport.NameHTTP1) {
			for _, r := range callEveryMethod(ctx, hc, url, transport.NameHTTP1, p) {
				if r.err != nil {
					t.Fatalf("round %d: %s %s: %v", i, p, r.method, r.err)
				}
			}
		}
	}
}

//go:build h2spec

package h2

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"polyconnect.dev/protocol/transport"
)

// TestH2Spec runs h2spec (github.com/summerwind/h2spec, the binary named by
// $H2SPEC; h2spec.sh installs it) against the server, cleartext and over
// TLS, in the default one-port mode (HTTP/1.x handed to net/http on the
// same port) and HTTP/2 only (WithoutHTTP1), and fails unless every test
// case passes. It is behind the h2spec
// build tag because it needs the tool: run it with `bash h2spec.sh`.
func TestH2Spec(t *testing.T) {
	bin := os.Getenv("H2SPEC")
	if bin == "" {
		t.Fatal("set H2SPEC to the h2spec binary (h2spec.sh does)")
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "hello from h2\n")
	})
	for _, tc := range []struct {
		name, mode string
		opts       []ServerOption
	}{
		{NameH2C, "one-port", nil},
		{NameH2, "one-port", nil},
		{NameH2C, "http2-only", []ServerOption{WithoutHTTP1()}},
		{NameH2, "http2-only", []ServerOption{WithoutHTTP1()}},
	} {
		name := tc.name
		t.Run(name+"/"+tc.mode, func(t *testing.T) {
			cfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
			if name == NameH2 {
				cfg.TLS = testPKI(t).serverTLS()
			}
			srv, err := NewServer(cfg, handler, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			port := strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)
			args := []string{"-h", "127.0.0.1", "-p", port, "--timeout", "5"}
			if name == NameH2 {
				args = append(args, "-t", "-k")
			}
			out, err := exec.Command(bin, args...).CombinedOutput()
			summary := regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`).FindSubmatch(out)
			if summary == nil {
				t.Fatalf("h2spec printed no summary (%v):\n%s", err, out)
			}
			t.Logf("h2spec %s %s: %s", name, tc.mode, summary[0])
			if err != nil || string(summary[4]) != "0" || string(summary[3]) != "0" {
				t.Fatalf("h2spec failed (%v):\n%s", err, out)
			}
		})
	}
}

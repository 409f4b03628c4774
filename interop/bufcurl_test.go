package interop

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bufPath finds buf: on PATH (scripts/test.sh puts .tools/bin there) or in
// the repository's .tools/bin (bash scripts/tools.sh installs it).
func bufPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("buf"); err == nil {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", ".tools", "bin", "buf"))
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("buf is not installed (%v); scripts/test.sh installs it with scripts/tools.sh", err)
	}
	t.Skip("buf is not installed; run bash scripts/tools.sh")
	return ""
}

// TestBufCurlHTTP3 calls our h3 server with `buf curl --http3`, a client
// nobody here wrote (connect-go's client in buf's own HTTP/3 stack), for
// every protocol buf curl speaks over HTTP/3 (it sends gRPC over HTTP/2
// only) and for unary, GET and server-streaming calls. The server speaks
// nothing but HTTP/3, so a pass means buf used it.
func TestBufCurlHTTP3(t *testing.T) {
	buf := bufPath(t)
	url, _ := startOurH3(t, polyconnectService())
	// The CA buf must trust: httptest's certificate, the one startOurH3
	// serves.
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, httptestCertPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	schema, err := filepath.Abs(filepath.Join("testdata", "echo.proto"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		protocol, method, data, want string
	}{
		{"connect", "Unary", `"hello"`, `"hello"`},
		{"connect", "Get", `"get"`, `"get"`},
		{"connect", "Server", `"s"`, `"s-0"` + "\n" + `"s-1"` + "\n" + `"s-2"`},
		{"grpcweb", "Unary", `"hello"`, `"hello"`},
		{"grpcweb", "Server", `"w"`, `"w-0"` + "\n" + `"w-1"` + "\n" + `"w-2"`},
	} {
		t.Run(tt.protocol+"/"+tt.method, func(t *testing.T) {
			// Generous: buf compiles the schema before it calls.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, buf, "curl", "--http3", "--protocol", tt.protocol,
				"--schema", schema, "--cacert", ca, "--data", tt.data,
				url+"/interop.v1.Echo/"+tt.method)
			cmd.Dir = t.TempDir() // no buf.yaml or buf.work.yaml around
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("buf curl: %v\n%s", err, stderr.String())
			}
			if got := strings.TrimSpace(stdout.String()); got != tt.want {
				t.Errorf("buf curl printed %q, want %q", got, tt.want)
			}
		})
	}
}

// httptestCertPEM is the PEM of net/http/httptest's test certificate.
func httptestCertPEM(t *testing.T) []byte {
	t.Helper()
	tlsConf, _ := h3TLS(t)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsConf.Certificates[0].Certificate[0]})
}

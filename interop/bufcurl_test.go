package interop

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBufCurlHTTP3 calls our h3 server with `buf curl --http3`, a client
// nobody here wrote (connect-go's client in buf's own HTTP/3 stack), for
// every protocol buf curl speaks over HTTP/3 (it sends gRPC over HTTP/2
// only) and for unary, GET and server-streaming calls. The server speaks
// nothing but HTTP/3, so a pass means buf used it. The schema comes from
// testdata/echo.proto: the echo service has no reflection.
func TestBufCurlHTTP3(t *testing.T) {
	buf := tool(t, "buf", "scripts/tools.sh")
	url, _ := startOurH3(t, polyconnectService())
	// The CA buf must trust: httptest's certificate, the one startOurH3
	// serves.
	serverTLS, _ := h3TLS(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: serverTLS.Certificates[0].Certificate[0]})
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
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
			out := run(t, buf, "curl", "--http3", "--protocol", tt.protocol,
				"--schema", schema, "--cacert", ca, "--data", tt.data,
				url+"/interop.v1.Echo/"+tt.method)
			if got := strings.TrimSpace(out); got != tt.want {
				t.Errorf("buf curl printed %q, want %q", got, tt.want)
			}
		})
	}
}

package h3_test

import (
	"net/http"
	"strings"
	"testing"

	"polyconnect.dev/protocol/transport"
	h3 "polyconnect.dev/transport-http3"
)

// Addresses with a scheme, a path or no port are refused with the
// explanation every transport gives, on servers and clients.
func TestBadAddrIsExplained(t *testing.T) {
	for _, addr := range []string{"https://127.0.0.1:8443", "127.0.0.1:8443/api", "localhost"} {
		_, err := h3.NewServer(transport.Config{Name: transport.NameH3, Addr: addr}, http.NotFoundHandler())
		if err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("server at %q: %v", addr, err)
		}
		_, err = h3.NewClient(transport.Config{Name: transport.NameH3, Addr: addr})
		if err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("client of %q: %v", addr, err)
		}
	}
}

package nethttp_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestDefaultHeaderLimit: by default a server refuses request headers over
// 64 KiB, over HTTP/1.1 and HTTP/2 alike, so one HTTP/2 connection cannot
// pin 250 streams × 1 MiB of headers (net/http's default) but at most
// 250 × 64 KiB.
func TestDefaultHeaderLimit(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			srv := startServer(t, s.server, http.HandlerFunc(protoHandler))
			c := newClient(t, s.client)
			for _, tc := range []struct {
				size int
				ok   bool
			}{{16 << 10, true}, {100 << 10, false}} {
				req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
				req.Header.Set("X-Big", strings.Repeat("x", tc.size))
				res, err := c.Do(req)
				if err != nil {
					if tc.ok {
						t.Fatalf("%d bytes of headers: %v", tc.size, err)
					}
					continue // the server may reset instead of answering
				}
				res.Body.Close()
				if (res.StatusCode == http.StatusOK) != tc.ok {
					t.Errorf("%d bytes of headers: status %d", tc.size, res.StatusCode)
				}
			}
		})
	}
}

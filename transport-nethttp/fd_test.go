//go:build unix

package nethttp_test

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/protocol/transport/transporttest"
	nethttp "polyconnect.dev/transport-nethttp"
)

// TestServerSurvivesDescriptorExhaustion checks that a server serves again
// once a moment of "too many open files" has passed.
func TestServerSurvivesDescriptorExhaustion(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			transporttest.DescriptorExhaustion(t, func(t testing.TB, logger *slog.Logger) string {
				cfg := s.server
				cfg.Logger = logger
				return startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.WriteString(w, "ok")
				})).URL()
			}, func(url string) error {
				// The child made its own certificates: what is under test is
				// whether it serves, not whom the client trusts.
				cfg := transport.Config{Name: s.client.Name}
				if s.tls {
					cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true}
				}
				c, err := nethttp.NewClient(cfg)
				if err != nil {
					return err
				}
				defer c.CloseIdleConnections()
				_, _, err = get(c, url)
				return err
			})
		})
	}
}

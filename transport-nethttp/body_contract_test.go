package nethttp_test

import (
	"net/http"
	"testing"

	"polyconnect.dev/protocol/transport/transporttest"
)

// TestBodyContract runs package transport's request body contract over
// each transport of this package.
func TestBodyContract(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			scheme := "http"
			if s.tls {
				scheme = "https"
			}
			transporttest.BodyContract(t, transporttest.BodyConfig{
				Serve: func(t testing.TB, h http.Handler) string {
					return startServer(t, s.server, h).URL()
				},
				Client: newClient(t, s.client),
				// net/http's HTTP/1.1 client and server stream both ways
				// too, once the server enables full duplex.
				FullDuplex: true,
				Scheme:     scheme,
			})
		})
	}
}

package h2

import (
	"net/http"
	"testing"

	"polyconnect.dev/protocol/transport/transporttest"
)

// TestBodyContract runs package transport's request body contract over
// h2c-rpc and h2-rpc.
func TestBodyContract(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			scheme := "http"
			if name == NameH2 {
				scheme = "https"
			}
			transporttest.BodyContract(t, transporttest.BodyConfig{
				Serve: func(t testing.TB, h http.Handler) string {
					return startServer(t, serverConfig(t, name), h).URL()
				},
				Client:     newClient(t, clientConfig(t, name)),
				FullDuplex: true,
				Scheme:     scheme,
			})
		})
	}
}

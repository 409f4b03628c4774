package h3_test

import (
	"net/http"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/protocol/transport/transporttest"
)

// TestBodyContract runs package transport's request body contract over
// HTTP/3.
func TestBodyContract(t *testing.T) {
	cfg := clientConfig(t)
	// A closed UDP port may answer nothing: 2s is far above a loopback
	// handshake and bounds the failed-dial case.
	cfg.TLSHandshakeTimeout = transport.Duration(2 * time.Second)
	transporttest.BodyContract(t, transporttest.BodyConfig{
		Serve: func(t testing.TB, h http.Handler) string {
			return startServer(t, serverConfig(t), h).URL()
		},
		Client:     newClient(t, cfg),
		FullDuplex: true,
		Scheme:     "https",
	})
}

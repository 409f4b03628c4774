package harness

import (
	"net/http"

	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
)

// transport-h2 is the HTTP/2 engine written for RPC. Its two names run
// polyconnect and raw on it, with the same certificates as the net/http
// transports, so that the rows differ only in the HTTP/2 underneath.

// IsH2Engine reports whether a transport name is one of transport-h2's
// rather than net/http's.
func IsH2Engine(name string) bool {
	return name == TransportH2CRPC || name == TransportH2RPC
}

func startH2Server(name string, h http.Handler) (*Server, error) {
	cfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
	if name == TransportH2RPC {
		t, err := serverTLS()
		if err != nil {
			return nil, err
		}
		cfg.TLS = t
	}
	srv, err := h2.NewServer(cfg, h)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	return &Server{URL: srv.URL(), close: func() { _ = srv.Close() }}, nil
}

// newH2Client returns a transport-h2 client for name; the h2-rpc client
// trusts the test CA, or any certificate if insecure is set.
func newH2Client(name string, insecure bool) (*h2.Client, error) {
	cfg := transport.Config{Name: name}
	if name == TransportH2RPC {
		if insecure {
			cfg.TLS = &transport.TLSConfig{InsecureSkipVerify: true}
		} else {
			t, err := clientTLS()
			if err != nil {
				return nil, err
			}
			cfg.TLS = t
		}
	}
	return h2.NewClient(cfg)
}

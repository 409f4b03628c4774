package interop

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
	h3 "polyconnect.dev/transport-http3"
)

// doRoundTripper lets connect-go, which takes an *http.Client, use a
// polyconnect transport client (anything with Do).
type doRoundTripper struct {
	do func(*http.Request) (*http.Response, error)
}

func (d doRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return d.do(r) }

// TestConnectGoOnPolyconnectTransports: connect-go's own handlers (they are
// http.Handlers) served by transport-h2 (h2c-rpc, h2-rpc) and
// transport-http3 servers, called by connect-go's own client whose HTTP
// client is polyconnect's transport client of the same kind: connect-go
// users move to these transports without touching their service code.
// Connect protocol, GET included, proto and JSON, every compression, all
// four kinds, bidi full duplex.
func TestConnectGoOnPolyconnectTransports(t *testing.T) {
	for _, name := range []string{h2.NameH2C, h2.NameH2, transport.NameH3} {
		url, hc := startOnPolyconnectTransport(t, name, connectGoService())
		client := &http.Client{Transport: doRoundTripper{hc.Do}}
		for _, codec := range codecs {
			for _, comp := range compressions {
				t.Run(name+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []connect.ClientOption{connectGoClientCompressions(), connect.WithHTTPGet()}
					if codec == "json" {
						opts = append(opts, connect.WithProtoJSON())
					}
					if comp != "identity" {
						opts = append(opts, connect.WithSendCompression(comp))
					}
					runConnectGoClient(t, client, url, true, opts)
				})
			}
		}
	}
}

// startOnPolyconnectTransport serves h with the polyconnect transport
// registered as name (h2c-rpc, h2-rpc or h3; TLS with the test PKI) and
// returns its URL and a client of the same transport.
func startOnPolyconnectTransport(t *testing.T, name string, h http.Handler) (string, transport.Client) {
	t.Helper()
	pki := testPKI(t)
	cfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
	ccfg := transport.Config{Name: name}
	scheme := "http://"
	if name != h2.NameH2C {
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pki.CAPEM)
		cfg.TLS = pki.ServerTLS()
		ccfg.TLSConfig = &tls.Config{RootCAs: roots}
		scheme = "https://"
	}
	srv, err := transport.NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	var hc transport.Client
	if name == transport.NameH3 {
		hc, err = h3.NewClient(ccfg)
	} else {
		hc, err = h2.NewClient(ccfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return scheme + srv.Addr().String(), hc
}

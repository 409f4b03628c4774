package h3_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"polyconnect.dev/protocol/transport"
	h3 "polyconnect.dev/transport-http3"
	"polyconnect.dev/transport-http3/internal/testpki"
)

// TestMain fails the run if any test leaves a goroutine behind: servers
// and clients must let go of everything on Close and Shutdown.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	certsOnce          sync.Once
	serverCert, client testpki.Pair
)

// pki returns the certificates shared by the tests of this package.
func pki(t testing.TB) (server, clientCert testpki.Pair) {
	certsOnce.Do(func() {
		serverCert = testpki.Server(t)
		client = testpki.Client(t)
	})
	return serverCert, client
}

// serverConfig is an h3 server on a free loopback port.
func serverConfig(t testing.TB) transport.Config {
	s, _ := pki(t)
	return transport.Config{Name: transport.NameH3, Addr: "127.0.0.1:0", TLS: testpki.ServerTLS(s, nil)}
}

// clientConfig is an h3 client that trusts the test server.
func clientConfig(t testing.TB) transport.Config {
	s, _ := pki(t)
	return transport.Config{Name: transport.NameH3, TLS: testpki.ClientTLS(s, nil)}
}

// startServer builds and starts a server that is closed when the test
// ends.
func startServer(t testing.TB, cfg transport.Config, h http.Handler, opts ...h3.ServerOption) *h3.Server {
	t.Helper()
	srv, err := h3.NewServer(cfg, h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// newClient builds a client that is closed when the test ends.
func newClient(t testing.TB, cfg transport.Config, opts ...h3.ClientOption) *h3.Client {
	t.Helper()
	c, err := h3.NewClient(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// protoHandler answers with what the server saw of the request.
func protoHandler(w http.ResponseWriter, r *http.Request) {
	peerCN := "-"
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		peerCN = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	fmt.Fprintf(w, "%s tls=%t peer=%s", r.Proto, r.TLS != nil, peerCN)
}

// get does a GET of url and returns the status and body.
func get(c interface {
	Do(*http.Request) (*http.Response, error)
}, url string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// checkLeaks fails t if goroutines outlive it. Call it first: it runs
// after every cleanup registered later, such as the server's Close.
func checkLeaks(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

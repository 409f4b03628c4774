package nethttp_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"sync"
	"testing"

	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
	"polyconnect.dev/transport-nethttp/certs"
)

var (
	pkiOnce sync.Once
	pki     *certs.PKI
	pkiErr  error
)

// testPKI returns one CA and certificates shared by the tests of this
// package.
func testPKI(t testing.TB) *certs.PKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = certs.NewTestPKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

// setup is one way to pair a server and a client.
type setup struct {
	name       string // test name
	server     transport.Config
	client     transport.Config
	protoMajor int
	tls        bool
}

// setups returns the server/client pairs every transport test runs: each
// registered name, and http1 over TLS.
func setups(t testing.TB) []setup {
	p := testPKI(t)
	return []setup{
		{
			name:       "http1",
			server:     transport.Config{Name: transport.NameHTTP1, Addr: "127.0.0.1:0"},
			client:     transport.Config{Name: transport.NameHTTP1},
			protoMajor: 1,
		},
		{
			name:       "http1-tls",
			server:     transport.Config{Name: transport.NameHTTP1, Addr: "127.0.0.1:0", TLS: p.ServerTLS()},
			client:     transport.Config{Name: transport.NameHTTP1, TLS: p.ClientTLS()},
			protoMajor: 1,
			tls:        true,
		},
		{
			name:       "h2c",
			server:     transport.Config{Name: transport.NameH2C, Addr: "127.0.0.1:0"},
			client:     transport.Config{Name: transport.NameH2C},
			protoMajor: 2,
		},
		{
			name:       "h2",
			server:     transport.Config{Name: transport.NameH2, Addr: "127.0.0.1:0", TLS: p.ServerTLS()},
			client:     transport.Config{Name: transport.NameH2, TLS: p.ClientTLS()},
			protoMajor: 2,
			tls:        true,
		},
	}
}

// quietLog drops net/http's own log lines, such as the TLS handshake
// errors the mTLS tests cause on purpose, which may be written after a
// test has finished.
var quietLog = log.New(io.Discard, "", 0)

// startServer builds and starts a server that is closed when the test
// ends.
func startServer(t testing.TB, cfg transport.Config, h http.Handler, opts ...nethttp.ServerOption) *nethttp.Server {
	t.Helper()
	opts = append([]nethttp.ServerOption{nethttp.WithErrorLog(quietLog)}, opts...)
	srv, err := nethttp.NewServer(cfg, h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// newClient builds a client whose idle connections are closed when the
// test ends.
func newClient(t testing.TB, cfg transport.Config, opts ...nethttp.ClientOption) *nethttp.Client {
	t.Helper()
	c, err := nethttp.NewClient(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// protoHandler answers with what the server saw of the request.
func protoHandler(w http.ResponseWriter, r *http.Request) {
	peerCN := "-"
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		peerCN = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	fmt.Fprintf(w, "%d tls=%t peer=%s", r.ProtoMajor, r.TLS != nil, peerCN)
}

// get does a GET of url+path and returns the status and body.
func get(c *nethttp.Client, url string) (int, string, error) {
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

func tlsVersionName(v uint16) string { return tls.VersionName(v) }

// readAll reads and closes the response body.
func readAll(t testing.TB, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

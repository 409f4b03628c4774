package h2

import (
	"fmt"
	"io"
	"net/http"
	"os"

	"go.uber.org/goleak"

	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

// pki is a throw-away CA with a server certificate for localhost,
// 127.0.0.1 and ::1, made once per test binary.
type pki struct {
	caPEM, certPEM, keyPEM      string
	clientCertPEM, clientKeyPEM string
}

var (
	pkiOnce sync.Once
	pkiVal  *pki
	pkiErr  error
)

func testPKI(t testing.TB) *pki {
	t.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = newPKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

func newPKI() (*pki, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "h2 test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, dns []string) (string, string, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", "", err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			DNSNames:     dns,
			IPAddresses:  ips,
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return "", "", err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return "", "", err
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})), nil
	}
	p := &pki{caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))}
	p.certPEM, p.keyPEM, err = issue(2, "localhost", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, []string{"localhost"})
	if err != nil {
		return nil, err
	}
	p.clientCertPEM, p.clientKeyPEM, err = issue(3, "test client", x509.ExtKeyUsageClientAuth, nil, nil)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pki) serverTLS() *transport.TLSConfig {
	return &transport.TLSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM}
}

func (p *pki) clientTLS() *transport.TLSConfig {
	return &transport.TLSConfig{CAPEM: p.caPEM}
}

// TestMain fails the run if goroutines outlive the tests. Connections close
// in the background (after a GOAWAY the server lingers up to a second for
// the peer to hang up), so stragglers get up to ten seconds, generous on a
// busy machine, before they count as leaks.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(10 * time.Second)
		err := goleak.Find()
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			err = goleak.Find()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// names are the two transports every behaviour test runs on.
var names = []string{NameH2C, NameH2}

// serverConfig returns the config of a test server for name on a free
// loopback port.
func serverConfig(t testing.TB, name string) transport.Config {
	cfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
	if name == NameH2 {
		cfg.TLS = testPKI(t).serverTLS()
	}
	return cfg
}

// clientConfig returns the config of a test client for name.
func clientConfig(t testing.TB, name string) transport.Config {
	cfg := transport.Config{Name: name}
	if name == NameH2 {
		cfg.TLS = testPKI(t).clientTLS()
	}
	return cfg
}

// startServer starts a server for h, closed when the test ends.
func startServer(t testing.TB, cfg transport.Config, h http.Handler, opts ...ServerOption) *Server {
	t.Helper()
	srv, err := NewServer(cfg, h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// newClient returns a client whose idle connections close when the test
// ends.
func newClient(t testing.TB, cfg transport.Config, opts ...ClientOption) *Client {
	t.Helper()
	c, err := NewClient(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// pair starts a server for h on name and returns it with a client.
func pair(t testing.TB, name string, h http.Handler) (*Server, *Client) {
	t.Helper()
	srv := startServer(t, serverConfig(t, name), h)
	return srv, newClient(t, clientConfig(t, name))
}

// get sends a request and returns the response with its body read.
func do(t testing.TB, c *Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

func newRequest(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// waitTimeout bounds how long tests wait for something that should happen
// promptly. It is generous because the machine may be busy: it only turns
// a hang into a failure.
const waitTimeout = 20 * time.Second

// eventually waits for cond, failing the test after waitTimeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recv waits for a value on ch, failing the test after waitTimeout.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

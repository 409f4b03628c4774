package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/protocol/rpc"
)

// newClientCA returns a CA and a client certificate it signed for name.
func newClientCA(t *testing.T, name string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test client CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// byCertificate identifies callers by their verified client certificate.
func byCertificate(_ context.Context, req *auth.Request) (any, error) {
	cert, ok := req.ClientCertificate()
	if !ok {
		return nil, rpc.NewError(rpc.CodeUnauthenticated, "client certificate required")
	}
	return cert.Subject.CommonName, nil
}

// Over TLS HTTP/2 with client certificates, every protocol and kind sees the
// verified certificate; a client without one is refused.
func TestClientCertificate(t *testing.T) {
	pool, cert := newClientCA(t, "service-a")
	mux := testsvc.NewMux(testsvc.Handlers{Handle: whoami}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(auth.NewServer(byCertificate)))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	withCert := srv.Client()
	withCert.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{cert}
	without := &http.Client{Transport: srv.Client().Transport.(*http.Transport).Clone()}
	without.Transport.(*http.Transport).TLSClientConfig.Certificates = nil
	t.Cleanup(withCert.CloseIdleConnections)
	t.Cleanup(without.CloseIdleConnections)

	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		v := testsvc.Variant{Name: p.String(), Protocol: p, HTTP2: true}
		good := testsvc.NewClients(withCert, srv.URL, v, rpc.IdempotencyUnknown)
		bad := testsvc.NewClients(without, srv.URL, v, rpc.IdempotencyUnknown)
		for _, k := range testsvc.Kinds {
			out, err := k.Call(context.Background(), good, "x")
			if err != nil || !slices.Equal(out, []string{"service-a:x"}) {
				t.Errorf("%s %s with a certificate: %v %v", p, k.Name, out, err)
			}
			if _, err := k.Call(context.Background(), bad, "x"); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
				t.Errorf("%s %s without a certificate: %v", p, k.Name, err)
			}
		}
	}
}

// The AuthFunc sees the TLS state of a TLS connection, and none without TLS.
func TestTLSStateOnlyWithTLS(t *testing.T) {
	var sawTLS bool
	check := func(_ context.Context, req *auth.Request) (any, error) {
		sawTLS = req.TLS() != nil
		return "x", nil
	}
	mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(auth.NewServer(check)))
	for _, withTLS := range []bool{false, true} {
		srv := httptest.NewServer(mux)
		if withTLS {
			srv.Close()
			srv = httptest.NewTLSServer(mux)
		}
		clients := testsvc.NewClients(srv.Client(), srv.URL, testsvc.Variants[0], rpc.IdempotencyUnknown)
		if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if sawTLS != withTLS {
			t.Errorf("TLS %v: AuthFunc saw TLS %v", withTLS, sawTLS)
		}
	}
}

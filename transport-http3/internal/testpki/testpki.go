// Package testpki makes TLS material for this module's tests with the
// standard library alone, so the module requires nothing beyond protocol
// and quic-go: self-signed certificates that are their own roots.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

// Pair is a self-signed certificate and its key, PEM encoded. A peer that
// trusts CertPEM as a root accepts it.
type Pair struct {
	CertPEM string
	KeyPEM  string
}

// Server makes a server certificate for localhost, 127.0.0.1 and ::1.
func Server(t testing.TB) Pair {
	t.Helper()
	return must(t)(NewServer())
}

// Client makes a client certificate for mutual TLS.
func Client(t testing.TB) Pair {
	t.Helper()
	return must(t)(selfSigned("polyconnect h3 test client", x509.ExtKeyUsageClientAuth))
}

// NewServer is Server for code without a testing.TB, such as examples.
func NewServer() (Pair, error) {
	return selfSigned("polyconnect h3 test server", x509.ExtKeyUsageServerAuth)
}

func must(t testing.TB) func(Pair, error) Pair {
	return func(p Pair, err error) Pair {
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func selfSigned(name string, usage x509.ExtKeyUsage) (Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return Pair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Pair{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Pair{}, err
	}
	return Pair{
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}, nil
}

// ServerTLS is the server side of a config: its certificate, and when
// client is non-nil, mutual TLS requiring that client's certificate.
func ServerTLS(server Pair, client *Pair) *transport.TLSConfig {
	c := &transport.TLSConfig{CertPEM: server.CertPEM, KeyPEM: server.KeyPEM}
	if client != nil {
		c.ClientCAPEM = client.CertPEM
		c.RequireClientCert = true
	}
	return c
}

// ClientTLS trusts server and, when client is non-nil, presents it.
func ClientTLS(server Pair, client *Pair) *transport.TLSConfig {
	c := &transport.TLSConfig{CAPEM: server.CertPEM}
	if client != nil {
		c.CertPEM, c.KeyPEM = client.CertPEM, client.KeyPEM
	}
	return c
}

// Package certs makes throw-away TLS certificates for tests: a
// self-signed certificate authority, a server certificate for loopback and
// a client certificate for mutual TLS, all in memory and PEM encoded.
//
// The keys are generated on every call and never written anywhere unless
// the caller does so. Use them for tests on loopback only.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	"polyconnect.dev/protocol/transport"
)

// PKI is a certificate authority with one server and one client
// certificate it issued, PEM encoded. Keys are ECDSA P-256 in PKCS #8.
type PKI struct {
	// CAPEM is the CA certificate: the root clients trust for the server
	// and servers trust for the client.
	CAPEM []byte
	// ServerCertPEM and ServerKeyPEM are valid for the hosts given to
	// NewTestPKI (by default localhost, 127.0.0.1 and ::1).
	ServerCertPEM []byte
	ServerKeyPEM  []byte
	// ClientCertPEM and ClientKeyPEM identify a client, with the common
	// name "polyconnect test client".
	ClientCertPEM []byte
	ClientKeyPEM  []byte
}

// DefaultHosts are the names and addresses the server certificate is valid
// for when NewTestPKI is called without hosts.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// NewTestPKI creates a new CA and issues a server certificate for hosts
// (IP addresses or DNS names; DefaultHosts if none) and a client
// certificate. Certificates are valid from an hour ago for a week.
func NewTestPKI(hosts ...string) (*PKI, error) {
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	now := time.Now()
	notBefore, notAfter := now.Add(-time.Hour), now.Add(7*24*time.Hour)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: CA key: %w", err)
	}
	caSerial, err := serial()
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: "polyconnect test CA " + caSerial.Text(16)},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("certs: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("certs: CA certificate: %w", err)
	}

	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			server.IPAddresses = append(server.IPAddresses, ip)
		} else {
			server.DNSNames = append(server.DNSNames, h)
		}
	}
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "polyconnect test client"},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}

	p := &PKI{CAPEM: pemBlock("CERTIFICATE", caDER)}
	if p.ServerCertPEM, p.ServerKeyPEM, err = issue(server, ca, caKey); err != nil {
		return nil, err
	}
	if p.ClientCertPEM, p.ClientKeyPEM, err = issue(client, ca, caKey); err != nil {
		return nil, err
	}
	return p, nil
}

// ServerTLS returns a server configuration with the server certificate
// that verifies client certificates against the CA when clients send
// them. Set RequireClientCert on the result for mutual TLS.
func (p *PKI) ServerTLS() *transport.TLSConfig {
	return &transport.TLSConfig{
		CertPEM:     string(p.ServerCertPEM),
		KeyPEM:      string(p.ServerKeyPEM),
		ClientCAPEM: string(p.CAPEM),
	}
}

// ClientTLS returns a client configuration that trusts the CA and presents
// the client certificate to servers that ask for one.
func (p *PKI) ClientTLS() *transport.TLSConfig {
	return &transport.TLSConfig{
		CAPEM:   string(p.CAPEM),
		CertPEM: string(p.ClientCertPEM),
		KeyPEM:  string(p.ClientKeyPEM),
	}
}

// CertPool returns a pool holding the CA certificate.
func (p *PKI) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CAPEM)
	return pool
}

// issue signs tmpl with the CA and returns the PEM certificate and key.
func issue(tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: key: %w", err)
	}
	if tmpl.SerialNumber, err = serial(); err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: certificate for %s: %w", tmpl.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: key: %w", err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

// serial returns a random positive 128-bit serial number.
func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("certs: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

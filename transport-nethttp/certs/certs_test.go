package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"testing"

	"polyconnect.dev/transport-nethttp/certs"
)

func parse(t *testing.T, pemData []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", pemData)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestNewTestPKI(t *testing.T) {
	p, err := certs.NewTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	roots := p.CertPool()

	server := parse(t, p.ServerCertPEM)
	for _, host := range certs.DefaultHosts {
		_, err := server.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if err := server.VerifyHostname("example.com"); err == nil {
		t.Error("server certificate is valid for example.com")
	}

	client := parse(t, p.ClientCertPEM)
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate is valid for server auth")
	}

	for _, pair := range [][2][]byte{{p.ServerCertPEM, p.ServerKeyPEM}, {p.ClientCertPEM, p.ClientKeyPEM}} {
		if _, err := tls.X509KeyPair(pair[0], pair[1]); err != nil {
			t.Errorf("key pair: %v", err)
		}
	}

	// Each call makes a new CA that does not trust the other's certificates.
	other, err := certs.NewTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: other.CertPool()}); err == nil {
		t.Error("a second PKI's CA trusts the first one's server certificate")
	}
}

func TestNewTestPKIHosts(t *testing.T) {
	p, err := certs.NewTestPKI("api.test", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	server := parse(t, p.ServerCertPEM)
	if len(server.DNSNames) != 1 || server.DNSNames[0] != "api.test" {
		t.Errorf("DNS names = %v", server.DNSNames)
	}
	if len(server.IPAddresses) != 1 || !server.IPAddresses[0].Equal(net.ParseIP("10.1.2.3")) {
		t.Errorf("IP addresses = %v", server.IPAddresses)
	}
}

func TestTransportTLSConfigs(t *testing.T) {
	p, err := certs.NewTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	serverTLS := p.ServerTLS()
	serverTLS.RequireClientCert = true
	serverConf, err := serverTLS.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	clientConf, err := p.ClientTLS().ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	clientConf.ServerName = "localhost"

	c, s := net.Pipe()
	done := make(chan error, 1)
	go func() {
		srv := tls.Server(s, serverConf)
		err := srv.Handshake()
		if err == nil && len(srv.ConnectionState().PeerCertificates) == 0 {
			err = errNoPeerCert
		}
		s.Close()
		done <- err
	}()
	if err := tls.Client(c, clientConf).Handshake(); err != nil {
		t.Errorf("client handshake: %v", err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Errorf("server handshake: %v", err)
	}
}

var errNoPeerCert = errors.New("no client certificate")

package transport_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

// testCA is a throw-away certificate authority for these tests.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "transport test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue returns a PEM certificate and key for "localhost", usable by a
// server or, with client set, by a client.
func (ca *testCA) issue(t *testing.T, client bool) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// handshake runs a TLS handshake over an in-memory pipe and returns the
// client's and the server's errors.
func handshake(t *testing.T, serverConf, clientConf *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	srv := tls.Server(s, serverConf)
	done := make(chan error, 1)
	go func() {
		err := srv.Handshake()
		if err == nil {
			// TLS 1.3 clients learn of a rejected certificate on their first
			// read; make them read something.
			_, err = srv.Write([]byte("ok"))
		}
		if err != nil {
			s.Close()
		}
		done <- err
	}()
	cli := tls.Client(c, clientConf)
	clientErr = cli.Handshake()
	if clientErr == nil {
		buf := make([]byte, 2)
		_, clientErr = cli.Read(buf)
	}
	c.Close()
	return clientErr, <-done
}

func TestTLSConfigHandshake(t *testing.T) {
	ca := newTestCA(t)
	serverCert, serverKey := ca.issue(t, false)
	clientCert, clientKey := ca.issue(t, true)
	other := newTestCA(t)
	otherCert, otherKey := other.issue(t, true)

	serverTLS := &transport.TLSConfig{CertPEM: serverCert, KeyPEM: serverKey, ClientCAPEM: ca.certPEM, RequireClientCert: true}
	serverConf, err := serverTLS.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if serverConf.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("ClientAuth = %v, want RequireAndVerifyClientCert", serverConf.ClientAuth)
	}

	tests := []struct {
		name   string
		client transport.TLSConfig
		ok     bool
	}{
		{"client cert from trusted CA", transport.TLSConfig{CAPEM: ca.certPEM, ServerName: "localhost", CertPEM: clientCert, KeyPEM: clientKey}, true},
		{"no client cert", transport.TLSConfig{CAPEM: ca.certPEM, ServerName: "localhost"}, false},
		{"client cert from other CA", transport.TLSConfig{CAPEM: ca.certPEM, ServerName: "localhost", CertPEM: otherCert, KeyPEM: otherKey}, false},
		{"server not trusted", transport.TLSConfig{CAPEM: other.certPEM, ServerName: "localhost", CertPEM: clientCert, KeyPEM: clientKey}, false},
		{"wrong server name", transport.TLSConfig{CAPEM: ca.certPEM, ServerName: "example.com", CertPEM: clientCert, KeyPEM: clientKey}, false},
		{"insecure skip verify", transport.TLSConfig{InsecureSkipVerify: true, CertPEM: clientCert, KeyPEM: clientKey}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clientConf, err := tt.client.ClientConfig()
			if err != nil {
				t.Fatal(err)
			}
			clientErr, serverErr := handshake(t, serverConf, clientConf)
			if tt.ok && (clientErr != nil || serverErr != nil) {
				t.Errorf("handshake failed: client %v, server %v", clientErr, serverErr)
			}
			if !tt.ok && clientErr == nil && serverErr == nil {
				t.Error("handshake succeeded, want a failure")
			}
		})
	}
}

func TestTLSConfigFiles(t *testing.T) {
	ca := newTestCA(t)
	certPEM, keyPEM := ca.issue(t, false)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := transport.TLSConfig{
		CertFile:     write("cert.pem", certPEM),
		KeyFile:      write("key.pem", keyPEM),
		ClientCAFile: write("ca.pem", ca.certPEM),
		MinVersion:   "1.3",
	}
	serverConf, err := cfg.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(serverConf.Certificates) != 1 || serverConf.MinVersion != tls.VersionTLS13 {
		t.Errorf("server config: %d certificates, min version %x", len(serverConf.Certificates), serverConf.MinVersion)
	}
	if serverConf.ClientAuth != tls.VerifyClientCertIfGiven || serverConf.ClientCAs == nil {
		t.Errorf("ClientAuth = %v, want VerifyClientCertIfGiven with a pool", serverConf.ClientAuth)
	}
	clientConf, err := (&transport.TLSConfig{CAFile: cfg.ClientCAFile, ServerName: "localhost"}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if clientConf.RootCAs == nil || len(clientConf.Certificates) != 0 || clientConf.MinVersion != tls.VersionTLS12 {
		t.Errorf("client config: roots %v, %d certificates, min version %x", clientConf.RootCAs, len(clientConf.Certificates), clientConf.MinVersion)
	}
	if clientErr, serverErr := handshake(t, serverConf, clientConf); clientErr != nil || serverErr != nil {
		t.Errorf("handshake: client %v, server %v", clientErr, serverErr)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	ca := newTestCA(t)
	certPEM, keyPEM := ca.issue(t, false)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	certFile, otherKeyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "other-key.pem")
	_, otherKeyPEM := ca.issue(t, false)
	if os.WriteFile(certFile, []byte(certPEM), 0o600) != nil || os.WriteFile(otherKeyFile, []byte(otherKeyPEM), 0o600) != nil {
		t.Fatal("cannot write the test files")
	}
	tests := []struct {
		name   string
		cfg    *transport.TLSConfig
		server bool
		want   string
	}{
		{"nil", nil, true, "no TLS configuration"},
		{"server without cert", &transport.TLSConfig{}, true, "needs a certificate"},
		{"cert from file and PEM", &transport.TLSConfig{CertFile: "a", KeyFile: "b", CertPEM: certPEM, KeyPEM: keyPEM}, true, "not both"},
		{"cert file without key", &transport.TLSConfig{CertFile: "a"}, true, "set together"},
		{"cert PEM without key", &transport.TLSConfig{CertPEM: certPEM}, false, "set together"},
		{"missing cert file", &transport.TLSConfig{CertFile: missing, KeyFile: missing}, true, "tls.cert_file: open " + missing + ": no such file"},
		{"missing key file", &transport.TLSConfig{CertFile: certFile, KeyFile: missing}, true, "tls.key_file: open " + missing + ": no such file"},
		{"key file of another cert", &transport.TLSConfig{CertFile: certFile, KeyFile: otherKeyFile}, true, "tls.cert_file " + certFile + " and tls.key_file " + otherKeyFile + ": tls: private key does not match"},
		{"bad PEM", &transport.TLSConfig{CertPEM: "junk", KeyPEM: keyPEM}, true, "cert_pem"},
		{"require client cert without CA", &transport.TLSConfig{CertPEM: certPEM, KeyPEM: keyPEM, RequireClientCert: true}, true, "client_ca"},
		{"client CA not PEM", &transport.TLSConfig{CertPEM: certPEM, KeyPEM: keyPEM, ClientCAPEM: "junk"}, true, "client_ca_pem holds no PEM"},
		{"missing CA file", &transport.TLSConfig{CAFile: missing}, false, "ca_file"},
		{"bad min version", &transport.TLSConfig{MinVersion: "1.0"}, false, "min_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.server {
				_, err = tt.cfg.ServerConfig()
			} else {
				_, err = tt.cfg.ClientConfig()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestConfigTLSConfigEscapeHatch(t *testing.T) {
	var cfg transport.Config
	if c, err := cfg.ServerTLSConfig(); c != nil || err != nil {
		t.Errorf("no TLS: ServerTLSConfig = %v, %v", c, err)
	}
	if c, err := cfg.ClientTLSConfig(); c != nil || err != nil {
		t.Errorf("no TLS: ClientTLSConfig = %v, %v", c, err)
	}

	// TLSConfig wins over TLS, even an invalid TLS, and is cloned.
	hatch := &tls.Config{ServerName: "hatch", NextProtos: []string{"x"}}
	cfg = transport.Config{TLS: &transport.TLSConfig{MinVersion: "bogus"}, TLSConfig: hatch}
	for _, get := range []func() (*tls.Config, error){cfg.ServerTLSConfig, cfg.ClientTLSConfig} {
		c, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if c == hatch || c.ServerName != "hatch" {
			t.Errorf("got %p (ServerName %q), want a clone of %p", c, c.ServerName, hatch)
		}
	}

	cfg = transport.Config{TLS: &transport.TLSConfig{ServerName: "from-fields"}}
	c, err := cfg.ClientTLSConfig()
	if err != nil || c.ServerName != "from-fields" {
		t.Errorf("ClientTLSConfig from fields = %v, %v", c, err)
	}
	if _, err := cfg.ServerTLSConfig(); err == nil {
		t.Error("ServerTLSConfig without a certificate succeeded")
	}
}

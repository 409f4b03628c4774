package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig is the TLS part of a [Config], as plain data. Each certificate,
// key or CA bundle can be given as a file path or inline as PEM text (handy
// for tests and secrets injected as environment variables), but a
// certificate and its key must come from one source.
//
// The same TLSConfig can describe either side: Cert/Key are this side's
// certificate (the server's, or the client's for mutual TLS), CA is what a
// client trusts, ClientCA is what a server trusts for client certificates.
// Fields that do not apply to a side are ignored there.
type TLSConfig struct {
	// CertFile and KeyFile are paths to this side's PEM certificate chain
	// and private key. A server must have a certificate; a client needs one
	// only for servers that ask for client certificates.
	CertFile string `json:"cert_file,omitempty" yaml:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty" yaml:"key_file,omitempty"`

	// CertPEM and KeyPEM are the same as CertFile and KeyFile, inline.
	CertPEM string `json:"cert_pem,omitempty" yaml:"cert_pem,omitempty"`
	KeyPEM  string `json:"key_pem,omitempty" yaml:"key_pem,omitempty"`

	// CAFile and CAPEM are PEM bundles of the roots a client trusts to
	// verify servers (client only). If both are empty, the system roots are
	// used. Both may be set; their certificates are combined.
	CAFile string `json:"ca_file,omitempty" yaml:"ca_file,omitempty"`
	CAPEM  string `json:"ca_pem,omitempty" yaml:"ca_pem,omitempty"`

	// ClientCAFile and ClientCAPEM are PEM bundles of the roots a server
	// trusts to verify client certificates (server only). When set, a
	// client certificate is verified if the client sends one; see
	// RequireClientCert.
	ClientCAFile string `json:"client_ca_file,omitempty" yaml:"client_ca_file,omitempty"`
	ClientCAPEM  string `json:"client_ca_pem,omitempty" yaml:"client_ca_pem,omitempty"`

	// RequireClientCert makes a server refuse clients without a
	// certificate signed by a ClientCA: mutual TLS (server only). It
	// requires ClientCAFile or ClientCAPEM.
	RequireClientCert bool `json:"require_client_cert,omitempty" yaml:"require_client_cert,omitempty"`

	// ServerName is the name a client expects in the server's certificate
	// (and sends as SNI). Empty means the host of the request URL (client
	// only).
	ServerName string `json:"server_name,omitempty" yaml:"server_name,omitempty"`

	// InsecureSkipVerify makes a client accept any server certificate. Use
	// it only in tests (client only).
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty" yaml:"insecure_skip_verify,omitempty"`

	// MinVersion is the lowest TLS version accepted: "1.2" (the default)
	// or "1.3".
	MinVersion string `json:"min_version,omitempty" yaml:"min_version,omitempty"`
}

// ServerConfig builds a server's *tls.Config: its certificate, the client
// CAs and client authentication mode, and the minimum version. The
// transport adds the ALPN protocols. It fails if no certificate is
// configured, if a file cannot be read, or if the PEM text is invalid.
func (c *TLSConfig) ServerConfig() (*tls.Config, error) {
	if c == nil {
		return nil, errors.New("transport: no TLS configuration")
	}
	minVersion, err := c.minVersion()
	if err != nil {
		return nil, err
	}
	cert, ok, err := c.certificate()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("transport: a TLS server needs a certificate: set tls.cert_file and tls.key_file, or tls.cert_pem and tls.key_pem")
	}
	conf := &tls.Config{
		MinVersion:   minVersion,
		Certificates: []tls.Certificate{cert},
	}
	pool, err := loadPool("client_ca", c.ClientCAFile, c.ClientCAPEM)
	if err != nil {
		return nil, err
	}
	switch {
	case c.RequireClientCert && pool == nil:
		return nil, errors.New("transport: tls.require_client_cert needs tls.client_ca_file or tls.client_ca_pem to verify client certificates")
	case c.RequireClientCert:
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	case pool != nil:
		conf.ClientCAs = pool
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return conf, nil
}

// ClientConfig builds a client's *tls.Config: the roots it trusts (the
// system roots if no CA is configured), its own certificate for mutual TLS
// if one is configured, the server name and the minimum version. The
// transport adds the ALPN protocols.
func (c *TLSConfig) ClientConfig() (*tls.Config, error) {
	if c == nil {
		return nil, errors.New("transport: no TLS configuration")
	}
	minVersion, err := c.minVersion()
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{
		MinVersion:         minVersion,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify,
	}
	cert, ok, err := c.certificate()
	if err != nil {
		return nil, err
	}
	if ok {
		conf.Certificates = []tls.Certificate{cert}
	}
	pool, err := loadPool("ca", c.CAFile, c.CAPEM)
	if err != nil {
		return nil, err
	}
	conf.RootCAs = pool // nil means the system roots
	return conf, nil
}

// certificate loads this side's key pair; ok is false when none is set.
func (c *TLSConfig) certificate() (cert tls.Certificate, ok bool, err error) {
	fromFiles := c.CertFile != "" || c.KeyFile != ""
	fromPEM := c.CertPEM != "" || c.KeyPEM != ""
	switch {
	case fromFiles && fromPEM:
		return cert, false, errors.New("transport: set either tls.cert_file and tls.key_file or tls.cert_pem and tls.key_pem, not both")
	case fromFiles:
		if c.CertFile == "" || c.KeyFile == "" {
			return cert, false, errors.New("transport: tls.cert_file and tls.key_file must be set together")
		}
		// Read each file here rather than with tls.LoadX509KeyPair, so an
		// error names the setting to fix.
		certPEM, err := os.ReadFile(c.CertFile)
		if err != nil {
			return cert, false, fmt.Errorf("transport: tls.cert_file: %w", err)
		}
		keyPEM, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return cert, false, fmt.Errorf("transport: tls.key_file: %w", err)
		}
		cert, err = tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return cert, false, fmt.Errorf("transport: tls.cert_file %s and tls.key_file %s: %w", c.CertFile, c.KeyFile, err)
		}
		return cert, true, nil
	case fromPEM:
		if c.CertPEM == "" || c.KeyPEM == "" {
			return cert, false, errors.New("transport: tls.cert_pem and tls.key_pem must be set together")
		}
		cert, err = tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM))
		if err != nil {
			return cert, false, fmt.Errorf("transport: parse tls.cert_pem and tls.key_pem: %w", err)
		}
		return cert, true, nil
	}
	return cert, false, nil
}

func (c *TLSConfig) minVersion() (uint16, error) {
	switch c.MinVersion {
	case "", "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("transport: tls.min_version %q is not supported (want \"1.2\" or \"1.3\")", c.MinVersion)
}

// loadPool reads the CA bundles from file and/or inline PEM; it returns nil
// when both are empty. field names the config field in errors.
func loadPool(field, file, pemText string) (*x509.CertPool, error) {
	if file == "" && pemText == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("transport: read tls.%s_file: %w", field, err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("transport: tls.%s_file %s holds no PEM certificate", field, file)
		}
	}
	if pemText != "" && !pool.AppendCertsFromPEM([]byte(pemText)) {
		return nil, fmt.Errorf("transport: tls.%s_pem holds no PEM certificate", field)
	}
	return pool, nil
}

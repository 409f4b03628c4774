package harness

import (
	"crypto/tls"
	"net/http"
	"sync"

	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
	"polyconnect.dev/transport-nethttp/certs"
)

// The servers and clients of polyconnect, connect-go and raw all come from
// polyconnect's transport-nethttp, so the three share one net/http
// configuration and differ only in what runs on top of it.

// pki is the process's throw-away certificate authority and server
// certificate for 127.0.0.1, made on first use.
var pki = sync.OnceValues(func() (*certs.PKI, error) { return certs.NewTestPKI() })

// serverTLS returns the server side of the h2 transport: the certificate
// only, so clients are not asked for one.
func serverTLS() (*transport.TLSConfig, error) {
	p, err := pki()
	if err != nil {
		return nil, err
	}
	return &transport.TLSConfig{CertPEM: string(p.ServerCertPEM), KeyPEM: string(p.ServerKeyPEM)}, nil
}

// clientTLS returns a client configuration that trusts the test CA.
func clientTLS() (*transport.TLSConfig, error) {
	p, err := pki()
	if err != nil {
		return nil, err
	}
	return &transport.TLSConfig{CAPEM: string(p.CAPEM)}, nil
}

// serverCertificate returns the server certificate for grpc-go, which does
// not read transport.Config.
func serverCertificate() (tls.Certificate, error) {
	p, err := pki()
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(p.ServerCertPEM, p.ServerKeyPEM)
}

func startNetHTTPServer(name string, h http.Handler) (*Server, error) {
	cfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
	if name == TransportH2 {
		t, err := serverTLS()
		if err != nil {
			return nil, err
		}
		cfg.TLS = t
	}
	srv, err := nethttp.NewServer(cfg, h)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	return &Server{URL: srv.URL(), close: func() { _ = srv.Close() }}, nil
}

// newNetHTTPClient returns a client for the transport name. The h2 client
// trusts the test CA, or any certificate if insecure is set.
func newNetHTTPClient(name string, insecure bool) (*nethttp.Client, error) {
	cfg := transport.Config{Name: name}
	if name == TransportH2 {
		if insecure {
			cfg.TLS = &transport.TLSConfig{InsecureSkipVerify: true}
		} else {
			t, err := clientTLS()
			if err != nil {
				return nil, err
			}
			cfg.TLS = t
		}
	}
	return nethttp.NewClient(cfg)
}

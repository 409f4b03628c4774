package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"

	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
)

// httpClients keeps one HTTP client per HTTP version and TLS material, so
// that test cases of the same configuration share connections as a real
// application would.
type httpClients struct {
	mu      sync.Mutex
	clients map[httpClientKey]*http.Client
}

type httpClientKey struct {
	version    v1.HTTPVersion
	serverCert string
	clientCert string
	clientKey  string
}

func newHTTPClients() *httpClients {
	return &httpClients{clients: make(map[httpClientKey]*http.Client)}
}

// get returns the client for a request's HTTP version and TLS settings:
// HTTP/1.1 or h2c in plain text, or TLS (HTTP/1.1 or h2 by ALPN) trusting the
// server certificate and presenting the client certificate, if any.
func (c *httpClients) get(req *v1.ClientCompatRequest) (*http.Client, string, error) {
	key := httpClientKey{
		version:    req.GetHttpVersion(),
		serverCert: string(req.GetServerTlsCert()),
		clientCert: string(req.GetClientTlsCreds().GetCert()),
		clientKey:  string(req.GetClientTlsCreds().GetKey()),
	}
	scheme := "http"
	if key.serverCert != "" {
		scheme = "https"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc := c.clients[key]; hc != nil {
		return hc, scheme, nil
	}
	tr := &http.Transport{Protocols: new(http.Protocols), MaxIdleConnsPerHost: 16}
	tlsOn := key.serverCert != ""
	switch key.version {
	case v1.HTTPVersion_HTTP_VERSION_1:
		tr.Protocols.SetHTTP1(true)
	case v1.HTTPVersion_HTTP_VERSION_2:
		if tlsOn {
			tr.Protocols.SetHTTP2(true)
		} else {
			tr.Protocols.SetUnencryptedHTTP2(true)
		}
	default:
		return nil, "", fmt.Errorf("HTTP version %v is not supported", key.version)
	}
	if tlsOn {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(key.serverCert)) {
			return nil, "", errors.New("server_tls_cert holds no PEM certificate")
		}
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if key.clientCert != "" {
			cert, err := tls.X509KeyPair([]byte(key.clientCert), []byte(key.clientKey))
			if err != nil {
				return nil, "", fmt.Errorf("client_tls_creds: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		tr.TLSClientConfig = cfg
	}
	hc := &http.Client{Transport: tr}
	c.clients[key] = hc
	return hc, scheme, nil
}

func (c *httpClients) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, hc := range c.clients {
		hc.CloseIdleConnections()
	}
}

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"

	"polyconnect.dev/conformance/internal/engine"
	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
	"polyconnect.dev/protocol/transport"
)

// httpClients keeps one transport client per server, HTTP version and TLS
// material, so that test cases of the same configuration share connections
// as the calls of a real application would.
type httpClients struct {
	http2   string // the HTTP/2 engine (package engine)
	mu      sync.Mutex
	clients map[httpClientKey]transport.Client
}

type httpClientKey struct {
	version    v1.HTTPVersion
	addr       string
	serverCert string
	clientCert string
	clientKey  string
}

func newHTTPClients(http2 string) *httpClients {
	return &httpClients{http2: http2, clients: make(map[httpClientKey]transport.Client)}
}

// get returns the client for a request, built from a transport.Config as an
// application would: "http1" (with TLS when the request has a server
// certificate), "h2c", or "h2" or "h3" trusting the server certificate and
// presenting the client certificate, if any.
func (c *httpClients) get(req *v1.ClientCompatRequest) (transport.Client, error) {
	key := httpClientKey{
		version:    req.GetHttpVersion(),
		addr:       net.JoinHostPort(req.GetHost(), strconv.Itoa(int(req.GetPort()))),
		serverCert: string(req.GetServerTlsCert()),
		clientCert: string(req.GetClientTlsCreds().GetCert()),
		clientKey:  string(req.GetClientTlsCreds().GetKey()),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc := c.clients[key]; hc != nil {
		return hc, nil
	}
	cfg := transport.Config{Addr: key.addr}
	tlsOn := key.serverCert != ""
	var err error
	switch key.version {
	case v1.HTTPVersion_HTTP_VERSION_1:
		cfg.Name, err = engine.HTTP1Name(c.http2)
	case v1.HTTPVersion_HTTP_VERSION_2:
		cfg.Name, err = engine.HTTP2Name(c.http2, tlsOn)
	case v1.HTTPVersion_HTTP_VERSION_3:
		if !tlsOn {
			return nil, errors.New("HTTP/3 needs TLS")
		}
		cfg.Name = transport.NameH3
	default:
		return nil, fmt.Errorf("HTTP version %v is not supported", key.version)
	}
	if err != nil {
		return nil, err
	}
	if tlsOn {
		cfg.TLS = &transport.TLSConfig{CAPEM: key.serverCert, CertPEM: key.clientCert, KeyPEM: key.clientKey}
	}
	hc, err := transport.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	c.clients[key] = hc
	return hc, nil
}

func (c *httpClients) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, hc := range c.clients {
		hc.CloseIdleConnections()
		if closer, ok := hc.(io.Closer); ok { // h3 clients own a UDP socket
			_ = closer.Close()
		}
	}
}

package rpc_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"polyconnect.dev/protocol/internal/leakcheck"

	"polyconnect.dev/protocol/rpc"
)

// netTransport is one way to reach a test server: a client and the URL it
// calls.
type netTransport struct {
	name   string
	url    string
	client *http.Client
	http1  bool // HTTP/1.1: no gRPC, bidi is half duplex
}

// netTransports serves h over HTTP/1.1, h2c (HTTP/2 with prior knowledge)
// and h2 (HTTP/2 over TLS, negotiated with ALPN) on loopback, closed with
// the test. tune, if not nil, adjusts every client transport, and
// serverConn, if not nil, every connection the servers accept.
func netTransports(t *testing.T, h http.Handler, tune func(*http.Transport), serverConn ...func(net.Conn)) []netTransport {
	t.Helper()
	onConn := func(c net.Conn, state http.ConnState) {
		if state != http.StateNew {
			return
		}
		if tc, ok := c.(*tls.Conn); ok {
			c = tc.NetConn()
		}
		for _, fn := range serverConn {
			fn(c)
		}
	}
	plain := httptest.NewUnstartedServer(h)
	plain.Config.ConnState = onConn
	plain.Config.Protocols = new(http.Protocols)
	plain.Config.Protocols.SetHTTP1(true)
	plain.Config.Protocols.SetUnencryptedHTTP2(true)
	plain.Start()
	t.Cleanup(plain.Close)

	secure := httptest.NewUnstartedServer(h)
	secure.Config.ConnState = onConn
	secure.EnableHTTP2 = true
	secure.StartTLS()
	t.Cleanup(secure.Close)

	newClient := func(tr *http.Transport) *http.Client {
		if tune != nil {
			tune(tr)
		}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr}
	}
	h1 := &http.Transport{Protocols: new(http.Protocols)}
	h1.Protocols.SetHTTP1(true)
	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	h2 := secure.Client().Transport.(*http.Transport).Clone()
	h2.Protocols = new(http.Protocols)
	h2.Protocols.SetHTTP2(true)
	return []netTransport{
		{name: "http1", url: plain.URL, client: newClient(h1), http1: true},
		{name: "h2c", url: plain.URL, client: newClient(h2c)},
		{name: "h2", url: secure.URL, client: newClient(h2)},
	}
}

// allProtocols are the client protocols, each over the transports that can
// carry it.
var allProtocols = []struct {
	name     string
	protocol rpc.Protocol
	http1    bool
}{
	{"connect", rpc.ProtocolConnect, true},
	{"grpc", rpc.ProtocolGRPC, false},
	{"grpcweb", rpc.ProtocolGRPCWeb, true},
}

// forEachProtocolAndTransport runs fn for every protocol over every
// transport that carries it.
func forEachProtocolAndTransport(t *testing.T, transports []netTransport, fn func(t *testing.T, tr netTransport, p rpc.Protocol)) {
	for _, p := range allProtocols {
		for _, tr := range transports {
			if tr.http1 && !p.http1 {
				continue
			}
			t.Run(p.name+"/"+tr.name, func(t *testing.T) { fn(t, tr, p.protocol) })
		}
	}
}

// noLeaks fails the test if goroutines it started outlive it: call it
// first, so that its check runs after every other cleanup (servers closed,
// idle connections dropped). The tests of this package do not run in
// parallel, so another test's goroutines cannot be mistaken for a leak.
func noLeaks(t *testing.T) {
	t.Helper()
	leakcheck.Check(t)
}

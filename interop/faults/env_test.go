package faults_test

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
	h3 "polyconnect.dev/transport-http3"
	nethttp "polyconnect.dev/transport-nethttp"
	"polyconnect.dev/transport-nethttp/certs"
)

// transports are the names the matrix runs over: every transport
// polyconnect ships.
var transports = []string{
	transport.NameHTTP1, transport.NameH2C, transport.NameH2,
	h2.NameH2C, h2.NameH2,
	transport.NameH3,
}

var protocols = []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb}

// valid reports whether the protocol runs over the transport: gRPC needs
// HTTP/2 or HTTP/3 (its trailers and full-duplex streams), so it is not a
// case over HTTP/1.1.
func valid(name string, p rpc.Protocol) bool {
	return !(name == transport.NameHTTP1 && p == rpc.ProtocolGRPC)
}

// usesTLS reports whether the transport named speaks TLS.
func usesTLS(name string) bool {
	switch name {
	case transport.NameH2, h2.NameH2, transport.NameH3:
		return true
	}
	return false
}

var (
	pkiOnce sync.Once
	pki     *certs.PKI
	pkiErr  error
)

func testPKI(t testing.TB) *certs.PKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = certs.NewTestPKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

// quiet is a logger for servers whose handlers panic on purpose.
var (
	quiet    = slog.New(slog.NewTextHandler(io.Discard, nil))
	quietLog = log.New(io.Discard, "", 0)
)

// serverConfig is the configuration of a test server of the transport
// named, on a free loopback port.
func serverConfig(t testing.TB, name string) transport.Config {
	cfg := transport.Config{Name: name, Addr: "127.0.0.1:0", Logger: quiet}
	if usesTLS(name) {
		cfg.TLS = testPKI(t).ServerTLS()
	}
	return cfg
}

// clientConfig is the configuration of a client of the transport named
// that trusts the test CA.
func clientConfig(t testing.TB, name string) transport.Config {
	cfg := transport.Config{Name: name}
	if usesTLS(name) {
		cfg.TLS = testPKI(t).ClientTLS()
	}
	return cfg
}

// serve starts a server of the transport named for h; it stops with the
// test.
func serve(t testing.TB, name string, h http.Handler) transport.Server {
	t.Helper()
	srv, err := transport.NewServer(serverConfig(t, name), h)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// newClient returns a client of the transport named; it is closed with the
// test.
func newClient(t testing.TB, name string) transport.Client {
	t.Helper()
	c, err := transport.NewClient(clientConfig(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		if closer, ok := c.(io.Closer); ok {
			_ = closer.Close()
		}
	})
	return c
}

// killable starts a server of the transport named for h and returns it
// with a function that kills every connection it has accepted, from the
// server's side, at once: TCP connections are closed under their calls,
// QUIC connections closed with H3_INTERNAL_ERROR (QUIC has no silent way
// to drop a connection that the peer notices before its idle timeout).
func killable(t testing.TB, name string, h http.Handler) (transport.Server, func()) {
	t.Helper()
	cfg := serverConfig(t, name)
	var (
		srv   transport.Server
		err   error
		mu    sync.Mutex
		conns []func()
	)
	track := func(kill func()) {
		mu.Lock()
		conns = append(conns, kill)
		mu.Unlock()
	}
	switch name {
	case transport.NameH3:
		srv, err = h3.NewServer(cfg, h, h3.WithServerHook(func(s *http3.Server, _ *quic.Config) {
			s.ConnContext = func(ctx context.Context, c *quic.Conn) context.Context {
				track(func() { _ = c.CloseWithError(quic.ApplicationErrorCode(transport.HTTP3InternalError), "killed") })
				return ctx
			}
		}))
	default:
		ln, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			t.Fatal(lerr)
		}
		tl := &trackingListener{Listener: ln, track: track}
		if name == h2.NameH2C || name == h2.NameH2 {
			cfg.Addr = ""
			srv, err = h2.NewServer(cfg, h, h2.WithListener(tl), h2.WithErrorLog(quietLog))
		} else {
			cfg.Addr = ""
			srv, err = nethttp.NewServer(cfg, h, nethttp.WithListener(tl))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, func() {
		mu.Lock()
		defer mu.Unlock()
		for _, kill := range conns {
			kill()
		}
	}
}

// trackingListener reports every connection it accepts.
type trackingListener struct {
	net.Listener
	track func(kill func())
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.track(func() { _ = c.Close() })
	}
	return c, err
}

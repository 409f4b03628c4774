package interop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h3 "polyconnect.dev/transport-http3"
)

// HTTP/3 against the peers: connect-go's client on quic-go's
// http3.Transport against our h3 server, and our h3 client against
// connect-go's handlers on quic-go's http3.Server; Connect (GET included),
// gRPC and gRPC-Web; proto and JSON; every compression; all four kinds,
// bidi full duplex.

// h3TLS returns a server TLS configuration for 127.0.0.1 and a pool that
// trusts it: net/http/httptest's built-in test certificate, so this module
// needs no certificate helper of its own.
func h3TLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	defer ts.Close()
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	return &tls.Config{Certificates: ts.TLS.Certificates}, roots
}

// startOurH3 serves h on our h3 transport and returns its URL and a
// connect-go-ready *http.Client on quic-go's own http3.Transport.
func startOurH3(t *testing.T, h http.Handler) (string, *http.Client) {
	t.Helper()
	serverTLS, roots := h3TLS(t)
	srv, err := transport.NewServer(transport.Config{Name: transport.NameH3, Addr: "127.0.0.1:0", TLSConfig: serverTLS}, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rt := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableCompression: true}
	t.Cleanup(func() { rt.Close() })
	return srv.URL(), &http.Client{Transport: rt}
}

// startQuicGoH3 serves h on quic-go's http3.Server and returns its URL and
// our h3 client.
func startQuicGoH3(t *testing.T, h http.Handler) (string, *h3.Client) {
	t.Helper()
	serverTLS, roots := h3TLS(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http3.Server{Handler: h, TLSConfig: http3.ConfigureTLSConfig(serverTLS)}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(pc)
	}()
	t.Cleanup(func() {
		srv.Close()
		pc.Close()
		<-served
	})
	c, err := h3.NewClient(transport.Config{Name: transport.NameH3, TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return "https://" + pc.LocalAddr().String(), c
}

func TestH3ConnectGoClientAgainstPolyconnect(t *testing.T) {
	connectURL, hc := startOurH3(t, polyconnectService())
	grpcURL, ghc := startOurH3(t, ourGRPCService())
	for _, mode := range []string{"connect", "grpc", "grpcweb"} {
		for _, codec := range codecs {
			for _, comp := range compressions {
				t.Run(mode+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []connect.ClientOption{connectGoClientCompressions()}
					switch mode {
					case "connect":
						opts = append(opts, connect.WithHTTPGet())
					case "grpc":
						opts = append(opts, connect.WithGRPC())
					case "grpcweb":
						opts = append(opts, connect.WithGRPCWeb())
					}
					if codec == "json" {
						opts = append(opts, connect.WithProtoJSON())
					}
					if comp != "identity" {
						opts = append(opts, connect.WithSendCompression(comp))
					}
					if mode == "connect" {
						runConnectGoClient(t, hc, connectURL, true, opts)
					} else {
						runConnectGoGRPCClient(t, ghc, grpcURL, true, opts)
					}
				})
			}
		}
	}
}

func TestH3PolyconnectClientAgainstConnectGo(t *testing.T) {
	url, c := startQuicGoH3(t, connectGoService())
	for _, mode := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		for _, codec := range codecs {
			for _, comp := range compressions {
				t.Run(mode.String()+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []rpc.ClientOption{rpc.WithProtocol(mode), rpc.WithSendCompression(comp)}
					if codec == "json" {
						opts = append(opts, rpc.WithProtoJSON())
					}
					if mode == rpc.ProtocolConnect {
						runPolyconnectClient(t, c, url, true, opts)
					} else {
						runOurGRPCClientConnectGo(t, c, url, true, opts)
					}
				})
			}
		}
	}
}

// TestH3ContextErrors: cancelling a call or letting its deadline pass over
// our h3 client reads as canceled / deadline_exceeded against connect-go's
// server too (quic-go reports H3_REQUEST_CANCELLED stream errors instead).
func TestH3ContextErrors(t *testing.T) {
	url, c := startQuicGoH3(t, connectGoService())
	for _, mode := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		ctx, cancel := context.WithCancel(context.Background())
		bidi, err := rpc.NewClient[sv, sv](c, url, rpc.Spec{Procedure: procBidi}, rpc.WithProtocol(mode)).CallBidiStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := bidi.Send(&sv{Value: "x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := bidi.Receive(); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := bidi.Receive(); rpc.CodeOf(err) != rpc.CodeCanceled {
			t.Errorf("%v: Receive after cancel: %v, want canceled", mode, err)
		}
		_ = bidi.CloseReceive()
	}
}

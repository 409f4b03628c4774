package interop

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
	"polyconnect.dev/transport-nethttp/certs"
)

// The same peers against transport-h2, polyconnect's HTTP/2 engine written
// for RPC: its server under connect-go's and grpc-go's clients (which run on
// net/http's HTTP/2 and grpc-go's own), and its client against connect-go's
// handlers on net/http and grpc-go's server. Every case of the matrices
// above runs over "h2c-rpc" and "h2-rpc".

var (
	h2PKIOnce sync.Once
	h2PKI     *certs.PKI
	h2PKIErr  error
)

func testPKI(t *testing.T) *certs.PKI {
	t.Helper()
	h2PKIOnce.Do(func() { h2PKI, h2PKIErr = certs.NewTestPKI() })
	if h2PKIErr != nil {
		t.Fatal(h2PKIErr)
	}
	return h2PKI
}

var h2Names = []string{h2.NameH2C, h2.NameH2}

// startOnH2 serves h on transport-h2 and returns its URL.
func startOnH2(t *testing.T, name string, h http.Handler) string {
	t.Helper()
	cfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
	if name == h2.NameH2 {
		cfg.TLS = testPKI(t).ServerTLS()
	}
	srv, err := h2.NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.URL()
}

// netHTTPClientFor returns a net/http client that reaches a transport-h2
// server: HTTP/2 with prior knowledge, or over TLS trusting the test CA.
func netHTTPClientFor(t *testing.T, name string) *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	if name == h2.NameH2 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(testPKI(t).CAPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		tr.Protocols.SetHTTP2(true)
	} else {
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// h2ClientFor returns a transport-h2 client for name, trusting roots (for
// h2-rpc).
func h2ClientFor(t *testing.T, name string, roots *x509.CertPool) *h2.Client {
	cfg := transport.Config{Name: name}
	if name == h2.NameH2 {
		cfg.TLSConfig = &tls.Config{RootCAs: roots}
	}
	c, err := h2.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// netHTTPServerFor serves h on net/http for a transport-h2 client of name:
// h2c, or TLS HTTP/2. It returns the URL and the roots to trust.
func netHTTPServerFor(t *testing.T, name string, h http.Handler) (string, *x509.CertPool) {
	srv := httptest.NewUnstartedServer(h)
	if name == h2.NameH2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
	}
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	if srv.Certificate() != nil {
		pool.AddCert(srv.Certificate())
	}
	return srv.URL, pool
}

func TestConnectGoClientAgainstPolyconnectOnH2(t *testing.T) {
	for _, name := range h2Names {
		url := startOnH2(t, name, polyconnectService())
		hc := netHTTPClientFor(t, name)
		for _, codec := range codecs {
			for _, comp := range compressions {
				t.Run(name+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []connect.ClientOption{connectGoClientCompressions(), connect.WithHTTPGet()}
					if codec == "json" {
						opts = append(opts, connect.WithProtoJSON())
					}
					if comp != "identity" {
						opts = append(opts, connect.WithSendCompression(comp))
					}
					runConnectGoClient(t, hc, url, true, opts)
				})
			}
		}
	}
}

func TestPolyconnectOnH2ClientAgainstConnectGo(t *testing.T) {
	for _, name := range h2Names {
		url, roots := netHTTPServerFor(t, name, connectGoService())
		hc := h2ClientFor(t, name, roots)
		for _, codec := range codecs {
			for _, comp := range compressions {
				t.Run(name+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []rpc.ClientOption{rpc.WithSendCompression(comp)}
					if codec == "json" {
						opts = append(opts, rpc.WithProtoJSON())
					}
					runPolyconnectClient(t, hc, url, true, opts)
				})
			}
		}
	}
}

func TestConnectGoGRPCClientsAgainstPolyconnectOnH2(t *testing.T) {
	for _, name := range h2Names {
		url := startOnH2(t, name, ourGRPCService())
		hc := netHTTPClientFor(t, name)
		for _, mode := range []string{"grpc", "grpcweb"} {
			for _, codec := range codecs {
				for _, comp := range compressions {
					t.Run(mode+"/"+name+"/"+codec+"/"+comp, func(t *testing.T) {
						opts := []connect.ClientOption{connectGoClientCompressions(), connect.WithGRPC()}
						if mode == "grpcweb" {
							opts[1] = connect.WithGRPCWeb()
						}
						if codec == "json" {
							opts = append(opts, connect.WithProtoJSON())
						}
						if comp != "identity" {
							opts = append(opts, connect.WithSendCompression(comp))
						}
						runConnectGoGRPCClient(t, hc, url, true, opts)
					})
				}
			}
		}
	}
}

func TestPolyconnectOnH2GRPCClientsAgainstConnectGo(t *testing.T) {
	for _, name := range h2Names {
		url, roots := netHTTPServerFor(t, name, connectGoService())
		hc := h2ClientFor(t, name, roots)
		for _, mode := range []rpc.Protocol{rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
			for _, codec := range codecs {
				for _, comp := range compressions {
					t.Run(mode.String()+"/"+name+"/"+codec+"/"+comp, func(t *testing.T) {
						opts := []rpc.ClientOption{rpc.WithProtocol(mode), rpc.WithSendCompression(comp)}
						if codec == "json" {
							opts = append(opts, rpc.WithProtoJSON())
						}
						runOurGRPCClientConnectGo(t, hc, url, true, opts)
					})
				}
			}
		}
	}
}

// TestGRPCGoClientAgainstPolyconnectOnH2 drives our handler on transport-h2
// with grpc-go's client and its own HTTP/2, cleartext and TLS.
func TestGRPCGoClientAgainstPolyconnectOnH2(t *testing.T) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(testPKI(t).CAPEM)
	creds := map[string]credentials.TransportCredentials{
		h2.NameH2C: insecure.NewCredentials(),
		h2.NameH2:  credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"}),
	}
	for _, name := range h2Names {
		url := startOnH2(t, name, ourGRPCService())
		host := url[len("http://"):]
		if name == h2.NameH2 {
			host = url[len("https://"):]
		}
		cc, err := grpc.NewClient("passthrough:///"+host, grpc.WithTransportCredentials(creds[name]))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		for _, codec := range []string{"proto", "json"} {
			for _, comp := range []string{"identity", "gzip"} {
				t.Run(name+"/"+codec+"/"+comp, func(t *testing.T) {
					var opts []grpc.CallOption
					if codec == "json" {
						opts = append(opts, grpc.CallContentSubtype("json"))
					}
					if comp == "gzip" {
						opts = append(opts, grpc.UseCompressor(grpcgzip.Name))
					}
					runGRPCGoClient(t, cc, opts)
				})
			}
		}
	}
}

// TestPolyconnectOnH2GRPCClientAgainstGRPCGo drives grpc-go's server with
// our gRPC client on transport-h2, cleartext and TLS.
func TestPolyconnectOnH2GRPCClientAgainstGRPCGo(t *testing.T) {
	p := testPKI(t)
	cert, err := tls.X509KeyPair(p.ServerCertPEM, p.ServerKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CAPEM)
	for _, name := range h2Names {
		var s *grpc.Server
		scheme := "http://"
		if name == h2.NameH2 {
			s = grpcGoService(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
			scheme = "https://"
		} else {
			s = grpcGoService()
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = s.Serve(ln) }()
		t.Cleanup(s.Stop)
		hc := h2ClientFor(t, name, pool)
		url := scheme + ln.Addr().String()
		for _, codec := range []string{"proto", "json"} {
			for _, comp := range []string{"identity", "gzip"} {
				t.Run(name+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPC), rpc.WithSendCompression(comp)}
					if codec == "json" {
						opts = append(opts, rpc.WithProtoJSON())
					}
					runOurGRPCClient(t, hc, url, true, true, opts)
				})
			}
		}
	}
}

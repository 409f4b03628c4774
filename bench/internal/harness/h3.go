package harness

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"

	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/transport"
	h3 "polyconnect.dev/transport-http3"
)

// HTTP/3. polyconnect and raw run on polyconnect's transport-http3 server
// and client. connect-go runs on quic-go's http3.Server and
// http3.Transport directly, as a connect-go user would set it up: the h3
// rows compare polyconnect with its transport against connect-go with
// quic-go's. Both use the in-memory test certificate of the h2 rows.

func startH3Server(impl string, h http.Handler) (*Server, error) {
	if impl == ImplConnectGo {
		return startQuicGoServer(h)
	}
	t, err := serverTLS()
	if err != nil {
		return nil, err
	}
	srv, err := h3.NewServer(transport.Config{Name: transport.NameH3, Addr: "127.0.0.1:0", TLS: t}, h)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	return &Server{URL: srv.URL(), close: func() { _ = srv.Close() }}, nil
}

// startQuicGoServer serves h with quic-go's http3.Server on a UDP socket
// of its own.
func startQuicGoServer(h http.Handler) (*Server, error) {
	p, err := pki()
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(p.ServerCertPEM, p.ServerKeyPEM)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http3.Server{Handler: h, TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(pc)
	}()
	return &Server{URL: "https://" + pc.LocalAddr().String(), close: func() {
		_ = srv.Close()
		_ = pc.Close()
		<-done
	}}, nil
}

func newH3Client(impl string, insecure bool) (HTTPDoer, error) {
	cfg := transport.Config{Name: transport.NameH3}
	if insecure {
		cfg.TLS = &transport.TLSConfig{InsecureSkipVerify: true}
	} else {
		t, err := clientTLS()
		if err != nil {
			return nil, err
		}
		cfg.TLS = t
	}
	if impl != ImplConnectGo {
		return h3.NewClient(cfg)
	}
	tlsConf, err := cfg.ClientTLSConfig()
	if err != nil {
		return nil, err
	}
	if tlsConf.RootCAs == nil && !insecure {
		return nil, errors.New("no test CA")
	}
	return newQuicGoClient(tlsConf), nil
}

// quicGoClient is an *http.Client on quic-go's http3.Transport, whose
// CloseIdleConnections also releases the transport's UDP socket (quic-go's
// own keeps it until Close).
type quicGoClient struct {
	*http.Client
	rt *http3.Transport
}

func newQuicGoClient(tlsConf *tls.Config) *quicGoClient {
	rt := &http3.Transport{TLSClientConfig: tlsConf, DisableCompression: true}
	return &quicGoClient{Client: &http.Client{Transport: rt}, rt: rt}
}

func (c *quicGoClient) CloseIdleConnections() { _ = c.rt.Close() }

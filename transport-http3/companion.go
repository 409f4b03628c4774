package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"polyconnect.dev/protocol/transport"
)

// altSvcMaxAge is how long, in seconds, clients may remember the Alt-Svc
// advertisement.
const altSvcMaxAge = 86400

// companion is the HTTP/2 (and HTTP/1.1) server over TLS on the HTTP/3
// server's port, which advertises HTTP/3 with Alt-Svc.
type companion struct {
	h      http.Handler // the handler served, before Alt-Svc is added
	logger *slog.Logger // Config.Logger
	srv    *http.Server
	ln     net.Listener
	done   chan struct{} // closed when Serve returns
}

func newCompanion(cfg transport.Config, tlsConf *tls.Config, h http.Handler) *companion {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	c := &companion{h: h, logger: cfg.Logger}
	c.srv = &http.Server{
		TLSConfig:         tlsConf.Clone(),
		Protocols:         &protocols,
		ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       orDefault(cfg.ReadTimeout, 0),
		WriteTimeout:      orDefault(cfg.WriteTimeout, 0),
		IdleTimeout:       orDefault(cfg.IdleTimeout, DefaultServerIdleTimeout),
		MaxHeaderBytes:    orDefaultInt(cfg.MaxHeaderBytes, DefaultMaxHeaderBytes),
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: max(cfg.MaxConcurrentStreams, 0)},
		ErrorLog:          cfg.ServerErrorLog(), // net/http's own chatter to the program's logs
	}
	// The handler is set in listen, once the port is known.
	return c
}

// listen binds TCP on the IP and port of the UDP socket and sets the
// handler that adds the Alt-Svc header.
func (c *companion) listen(udp net.Addr) error {
	ua, ok := udp.(*net.UDPAddr)
	if !ok {
		return errors.New("the HTTP/2 companion needs a UDP socket with a port")
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ua.IP, Port: ua.Port, Zone: ua.Zone})
	if err != nil {
		return err
	}
	c.ln = transport.KeepAccepting(ln, "h3: HTTP/2 companion", c.logger)
	altSvc := `h3=":` + strconv.Itoa(ua.Port) + `"; ma=` + strconv.Itoa(altSvcMaxAge)
	next := c.h
	c.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Alt-Svc"] = []string{altSvc}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = netHTTPRequestBody{r.Body}
		}
		next.ServeHTTP(w, r)
	})
	return nil
}

func (c *companion) serve(logger *slog.Logger) {
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		// The certificates are in srv.TLSConfig.
		if err := c.srv.ServeTLS(c.ln, "", ""); !errors.Is(err, http.ErrServerClosed) && logger != nil {
			logger.Error("h3: HTTP/2 companion stopped", "error", err)
		}
	}()
}

func (c *companion) shutdown(ctx context.Context) error {
	err := c.srv.Shutdown(ctx)
	if err != nil {
		_ = c.srv.Close()
	}
	c.wait()
	return err
}

func (c *companion) close() error {
	err := c.srv.Close()
	c.wait()
	return err
}

func (c *companion) wait() {
	if c.done != nil {
		<-c.done
	}
}

// netHTTPRequestBody translates the read errors of a request body the
// companion (net/http) serves into package transport's words.
type netHTTPRequestBody struct{ io.ReadCloser }

func (b netHTTPRequestBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = transport.NetHTTPServerError(err)
	}
	return n, err
}

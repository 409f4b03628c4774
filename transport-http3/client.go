package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/transport"
)

// Client is an HTTP/3 client. It keeps one QUIC connection per server
// (host and port) and sends each call on it as a stream of its own, so
// concurrent calls share the connection and bidirectional streams are full
// duplex. It implements transport.Client and rpc.HTTPClient, and is safe
// for concurrent use. Create one per configuration and share it.
//
// A Client owns a UDP socket, opened on first use. CloseIdleConnections
// closes it along with the last idle connection; Close closes everything.
type Client struct {
	url  string
	rt   *http3.Transport
	conf *quic.Config
	pool *pool
}

var _ transport.Client = (*Client)(nil)

// errClientClosed is returned by Do after Close.
var errClientClosed = errors.New("h3: client is closed")

// NewClient returns an HTTP/3 client configured from cfg, whose Name must
// be "h3" or empty.
//
// It verifies servers with Config.TLS's CA (the system roots by default)
// and presents its certificate, if one is set, to servers that ask for one
// (mutual TLS). Of the other Config fields, Addr (for URL), DialTimeout
// (the whole connection set-up), TLSHandshakeTimeout (how long the
// handshake may go without hearing from the server), IdleTimeout (how
// long a connection without calls is kept), PingInterval (QUIC
// keep-alive; on by default, negative turns it off) and PingTimeout (QUIC's
// idle timeout becomes PingInterval + PingTimeout) apply. QUIC pings
// connections with or without calls: PermitPingsWithoutCalls is always on. MaxIdleConns,
// MaxIdleConnsPerHost and MaxConnsPerHost do not: a client has one
// connection per server.
func NewClient(cfg transport.Config, opts ...ClientOption) (*Client, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	if cfg.Addr != "" {
		if err := transport.CheckAddr(cfg.Addr); err != nil {
			return nil, err
		}
	}
	var o clientOptions
	for _, opt := range opts {
		opt.applyClient(&o)
	}
	tlsConf, err := cfg.ClientTLSConfig()
	if err != nil {
		return nil, err
	}
	if tlsConf == nil {
		tlsConf = &tls.Config{}
	}
	tlsConf.MinVersion = tls.VersionTLS13

	c := &Client{}
	c.conf = &quic.Config{
		HandshakeIdleTimeout: orDefault(cfg.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout),
		KeepAlivePeriod:      orDefault(cfg.PingInterval, DefaultPingInterval),
		MaxIdleTimeout:       quicIdleTimeout(withPingInterval(cfg, DefaultPingInterval)),
		// The server opens no bidirectional streams in HTTP/3.
		MaxIncomingStreams: -1,
	}
	c.pool = newPool(o.packetConn, orDefault(cfg.DialTimeout, DefaultDialTimeout), orDefault(cfg.IdleTimeout, DefaultClientIdleTimeout))
	c.rt = &http3.Transport{
		TLSClientConfig:    tlsConf,
		QUICConfig:         c.conf,
		Dial:               c.pool.dial,
		DisableCompression: true,
	}
	for _, hook := range o.hooks {
		hook(c.rt, c.conf)
	}
	if cfg.Addr != "" {
		c.url = "https://" + cfg.Addr
	}
	return c, nil
}

// Do sends req and returns the response. Redirects are returned, not
// followed, and no compression is asked for on the caller's behalf. The
// caller must close the response body; the call holds its connection
// until then.
//
// Errors read as on every transport: once req's context is done, Do and
// reads of the response body return the context's error (not the stream
// reset that cancelling causes). Failures of the connection or the stream
// are in package transport's words: *transport.StreamResetError with the
// HTTP/3 code (inside a *transport.NotProcessedError for
// H3_REQUEST_REJECTED), *transport.DialError and *transport.TLSError when
// no connection could be set up, *transport.ConnectionLostError when the
// connection ended under the call.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return nil, errors.New("h3: request without a URL")
	}
	key := authority(req.URL.Host)
	if !c.pool.acquire(key) {
		closeBody(req)
		return nil, errClientClosed
	}
	rtReq := req
	if rtReq.Header == nil {
		r := *rtReq
		r.Header = http.Header{}
		rtReq = &r
	}
	res, err := c.rt.RoundTrip(rtReq)
	if err != nil {
		c.pool.release(key)
		return nil, mapError(req.Context(), req.URL.Host, err)
	}
	res.Request = req
	res.Body = &responseBody{rc: res.Body, ctx: req.Context(), host: req.URL.Host, pool: c.pool, key: key}
	return res, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// CloseIdleConnections closes the connections that carry no call, and the
// client's UDP socket once no connection is left. Calls in flight are not
// interrupted. The client stays usable: the next call reconnects.
func (c *Client) CloseIdleConnections() {
	c.pool.closeIdle()
}

// Close closes every connection, interrupting the calls in flight, and the
// UDP socket. Do fails after Close.
func (c *Client) Close() error {
	c.pool.close()
	return c.rt.Close()
}

// URL returns "https://" + Config.Addr, or "" if Config.Addr was empty.
func (c *Client) URL() string { return c.url }

// HTTPClient returns an *http.Client that sends its requests through c,
// for APIs that want one. It does not follow redirects.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{
		Transport:     roundTripper{c},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// roundTripper adapts a Client to http.RoundTripper.
type roundTripper struct{ c *Client }

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return r.c.Do(req) }

// responseBody maps read errors and gives the connection back to the pool
// when it is closed.
type responseBody struct {
	rc   io.ReadCloser
	ctx  context.Context
	host string
	pool *pool
	key  string
	done atomic.Bool
}

func (b *responseBody) Read(p []byte) (int, error) {
	// Once the call's context is done its response is over, as on
	// net/http's transports, even if quic-go still has data to give: the
	// server may have answered the reset that ending the call caused.
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if dl, ok := b.ctx.Deadline(); ok && !time.Now().Before(dl) {
		return 0, context.DeadlineExceeded
	}
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = mapError(b.ctx, b.host, err)
	}
	return n, err
}

func (b *responseBody) Close() error {
	err := b.rc.Close()
	if b.done.CompareAndSwap(false, true) {
		b.pool.release(b.key)
	}
	return err
}

// authority returns host with the port HTTP/3 uses by default, 443, when
// it has none: the key under which connections are pooled.
func authority(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(trimBrackets(host), "443")
}

func trimBrackets(host string) string {
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		return host[1 : len(host)-1]
	}
	return host
}

// withPingInterval returns cfg with PingInterval def when it is zero.
func withPingInterval(cfg transport.Config, def time.Duration) transport.Config {
	if cfg.PingInterval == 0 {
		cfg.PingInterval = transport.Duration(def)
	}
	return cfg
}

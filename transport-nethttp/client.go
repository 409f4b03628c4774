package nethttp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"polyconnect.dev/protocol/transport"
)

// Client is an HTTP client with a pooled, keep-alive connection pool that
// speaks exactly one protocol: HTTP/1.1 ("http1"), HTTP/2 with prior
// knowledge ("h2c") or HTTP/2 over TLS ("h2"). It implements
// transport.Client and rpc.HTTPClient, and is safe for concurrent use.
// Create one per configuration and share it: each Client has its own pool.
type Client struct {
	name      string
	url       string
	client    *http.Client
	transport *http.Transport
	diagnoses *diagnoses // h2c and http1
}

var _ transport.Client = (*Client)(nil)

// NewClient returns a client configured from cfg, which must name "http1",
// "h2c" or "h2".
//
// An "h2" client verifies servers with Config.TLS's CA (the system roots
// by default) and presents its certificate, if one is set, to servers that
// ask for one. It fails requests to servers that do not negotiate HTTP/2.
// An "h2c" client refuses a TLS configuration and https URLs. An "http1"
// client uses its TLS configuration for https URLs.
//
// PingInterval makes h2c and h2 clients ping a connection that has been
// silent that long and close it, failing its calls as lost connections, if
// the ping goes unanswered for PingTimeout. net/http pings connections
// without calls too: PermitPingsWithoutCalls cannot be turned off, so keep
// PingInterval above a grpc-go server's enforcement MinTime (5 minutes by
// default), or it answers GOAWAY too_many_pings.
func NewClient(cfg transport.Config, opts ...ClientOption) (*Client, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	var o clientOptions
	for _, opt := range opts {
		opt.applyClient(&o)
	}
	if cfg.Addr != "" {
		if err := transport.CheckAddr(cfg.Addr); err != nil {
			return nil, err
		}
	}
	tlsConf, err := cfg.ClientTLSConfig()
	if err != nil {
		return nil, err
	}
	if cfg.Name == transport.NameH2C && tlsConf != nil {
		return nil, errors.New(`nethttp: "h2c" is HTTP/2 without TLS but a TLS configuration is set; use "h2" for HTTP/2 over TLS`)
	}
	secure := tlsConf != nil || cfg.Name == transport.NameH2
	if tlsConf == nil && cfg.Name != transport.NameH2C {
		// The transport sets ALPN on it; keep net/http's other defaults.
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}

	var protocols http.Protocols
	proxy := http.ProxyFromEnvironment
	switch cfg.Name {
	case transport.NameHTTP1:
		protocols.SetHTTP1(true)
	case transport.NameH2C:
		protocols.SetUnencryptedHTTP2(true)
		proxy = nil
	case transport.NameH2:
		protocols.SetHTTP2(true)
	}
	if o.proxySet {
		proxy = o.proxy
	}

	dial := o.dial
	if dial == nil {
		dial = (&net.Dialer{
			Timeout:   orDefault(cfg.DialTimeout, DefaultDialTimeout),
			KeepAlive: 30 * time.Second,
		}).DialContext
	}

	var diag *diagnoses
	if cfg.Name != transport.NameH2 {
		// Tell a server that speaks another protocol apart from a broken
		// connection: see diagnose.go.
		diag = &diagnoses{name: cfg.Name, dial: dial}
		dial = diag.wrap()
	}

	t := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   orDefault(cfg.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout),
		DisableCompression:    true,
		MaxIdleConns:          orDefaultInt(cfg.MaxIdleConns, DefaultMaxIdleConns),
		MaxIdleConnsPerHost:   orDefaultInt(cfg.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost),
		MaxConnsPerHost:       max(cfg.MaxConnsPerHost, 0),
		IdleConnTimeout:       orDefault(cfg.IdleTimeout, DefaultClientIdleTimeout),
		ExpectContinueTimeout: time.Second,
		Protocols:             &protocols,
	}
	if protocols.HTTP2() || protocols.UnencryptedHTTP2() {
		t.HTTP2 = &http.HTTP2Config{
			SendPingTimeout: orDefault(cfg.PingInterval, 0),
			PingTimeout:     orDefault(cfg.PingTimeout, transport.DefaultPingTimeout),
		}
	}
	for _, hook := range o.hooks {
		hook(t)
	}

	c := &Client{
		name:      cfg.Name,
		diagnoses: diag,
		transport: t,
		client: &http.Client{
			Transport: t,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	if cfg.Addr != "" {
		if secure {
			c.url = "https://" + cfg.Addr
		} else {
			c.url = "http://" + cfg.Addr
		}
	}
	return c, nil
}

// Do sends req and returns the response, as [http.Client.Do] does, except
// that redirects are returned rather than followed. The caller must close
// the response body.
//
// Failures are in package transport's words (see transport.ErrStreamReset
// and the errors beside it), from Do and from reads of the response body.
// Mistakes of configuration get an error that says what to fix rather than
// what failed: a request URL without a scheme and host (a client whose
// Config.Addr is empty, whose URL is then ""), an https URL for an h2c
// client or an http one for an h2 client, and, as a *transport.DialError,
// an h2c client talking to a TLS or HTTP/1-only port or a cleartext client
// talking to a TLS port.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.URL == nil || req.URL.Scheme == "" || req.URL.Host == "" {
		return nil, c.noBaseURL(req)
	}
	if err := c.checkScheme(req.URL); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	res, err := c.client.Do(req)
	if err != nil {
		if c.diagnoses != nil {
			if explained := c.diagnoses.explain(req.Context(), req.URL, err); explained != nil {
				return nil, &transport.DialError{Addr: hostPort(req.URL), Err: explained}
			}
		}
		return nil, transport.NetHTTPClientError(err)
	}
	if res.StatusCode == http.StatusBadRequest && req.URL.Scheme == "http" && res.ProtoMajor == 1 && res.ProtoMinor == 0 {
		res, err = checkPlainToTLS(c.name, req.URL.Host, res)
		if err != nil {
			return nil, &transport.DialError{Addr: hostPort(req.URL), Err: err}
		}
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		res.Body = typedResponseBody{res.Body}
	}
	return res, nil
}

// checkScheme refuses a URL whose scheme the client's protocol does not
// use: https for h2c (HTTP/2 without TLS), http for h2 (HTTP/2 over TLS).
func (c *Client) checkScheme(u *url.URL) error {
	switch {
	case c.name == transport.NameH2C && u.Scheme == "https":
		return fmt.Errorf(`nethttp: the URL %s is https://, but an "h2c" client speaks HTTP/2 without TLS and sends http:// URLs; for a TLS server use "h2" (or "http1" with tls)`, transport.RedactedURL(u))
	case c.name == transport.NameH2 && u.Scheme == "http":
		return fmt.Errorf(`nethttp: the URL %s is http://, but an "h2" client speaks HTTP/2 over TLS and sends https:// URLs; for a cleartext server use "h2c" (HTTP/2) or "http1"`, transport.RedactedURL(u))
	}
	return nil
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// noBaseURL explains a request URL that lacks a scheme or host.
func (c *Client) noBaseURL(req *http.Request) error {
	target := ""
	if req.URL != nil {
		target = transport.RedactedURL(req.URL)
	}
	if c.url == "" {
		return fmt.Errorf("nethttp: request URL %q has no scheme and host: the %s client's Config.Addr is empty, so its URL() is \"\"; set addr (host:port) in the client config, or pass a base URL such as http://127.0.0.1:8080", target, c.name)
	}
	return fmt.Errorf("nethttp: request URL %q has no scheme and host: use a base URL such as %s (the client's URL())", target, c.url)
}

// CloseIdleConnections closes pooled connections that carry no call.
func (c *Client) CloseIdleConnections() {
	c.transport.CloseIdleConnections()
}

// URL returns the base URL for Config.Addr ("https://addr" for h2, or for
// http1 with TLS, else "http://addr"), or "" if Config.Addr was empty.
func (c *Client) URL() string { return c.url }

// HTTPClient returns the underlying *http.Client, for APIs that want one.
// It shares the connection pool with c.
func (c *Client) HTTPClient() *http.Client { return c.client }

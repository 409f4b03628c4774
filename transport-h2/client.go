package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"polyconnect.dev/protocol/transport"
)

// Client is an HTTP/2 client on this package's engine: cleartext with
// prior knowledge ("h2c-rpc") or TLS with ALPN ("h2-rpc"). It keeps a pool
// of connections per host and puts as many concurrent requests on one
// connection as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows before
// it opens another. It implements transport.Client and rpc.HTTPClient, and
// is safe for concurrent use. Create one per configuration and share it.
type Client struct {
	name            string
	url             string
	tls             *tls.Config // nil for h2c-rpc
	dial            func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsTimeout      time.Duration
	idleTimeout     time.Duration
	maxIdle         int
	maxIdlePerHost  int
	maxConnsPerHost int
	lim             limits

	mu     sync.Mutex
	pools  map[string]*hostPool
	nconns atomic.Int32 // connections in all pools

	// pingInterval is the keep-alive interval new connections use: the
	// configured one, doubled each time a server says too_many_pings.
	pingInterval atomic.Int64
}

// hostPool holds the connections to one host:port.
type hostPool struct {
	key     string
	conns   []*clientConn
	dialing *dialCall
	wait    chan struct{} // closed when a slot or connection may have freed up
	waiting atomic.Int32
}

// dialCall is a connection being opened, which several requests may wait
// for.
type dialCall struct {
	done chan struct{}
	err  error
}

var _ transport.Client = (*Client)(nil)

// NewClient returns a client configured from cfg, which must name
// "h2c-rpc" or "h2-rpc".
//
// An "h2-rpc" client verifies servers with Config.TLS's CA (the system
// roots by default), presents its certificate, if one is set, to servers
// that ask for one, and fails connections to servers that do not negotiate
// "h2" with ALPN. An "h2c-rpc" client refuses a TLS configuration and https
// URLs. Config fields left at zero get this package's Default values;
// PingInterval turns on keep-alive PINGs.
func NewClient(cfg transport.Config, opts ...ClientOption) (*Client, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	var o clientOptions
	o.flowControlTimeout, o.bdp = DefaultFlowControlTimeout, true
	for _, opt := range opts {
		opt.applyClient(&o)
	}
	tlsConf, err := cfg.ClientTLSConfig()
	if err != nil {
		return nil, err
	}
	if cfg.Name == NameH2C && tlsConf != nil {
		return nil, fmt.Errorf("h2: %q is HTTP/2 without TLS but a TLS configuration is set; use %q for HTTP/2 over TLS", NameH2C, NameH2)
	}
	if cfg.Name == NameH2 {
		if tlsConf == nil {
			tlsConf = &tls.Config{}
		}
		prepareTLS(tlsConf)
	}
	dial := o.dial
	if dial == nil {
		dial = (&net.Dialer{
			Timeout:   orDefault(cfg.DialTimeout, DefaultDialTimeout),
			KeepAlive: 30 * time.Second,
		}).DialContext
	}
	maxHeader := orDefaultInt(cfg.MaxHeaderBytes, DefaultClientMaxHeaderBytes)
	ka, err := keepaliveConfig(cfg, o.pingInterval, o.pingTimeout, false)
	if err != nil {
		return nil, err
	}
	c := &Client{
		name:            cfg.Name,
		tls:             tlsConf,
		dial:            dial,
		tlsTimeout:      orDefault(cfg.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout),
		idleTimeout:     orDefault(cfg.IdleTimeout, DefaultClientIdleTimeout),
		maxIdle:         orDefaultInt(cfg.MaxIdleConns, DefaultMaxIdleConns),
		maxIdlePerHost:  orDefaultInt(cfg.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost),
		maxConnsPerHost: max(cfg.MaxConnsPerHost, 0),
		pools:           make(map[string]*hostPool),
		lim: limits{
			maxHeaderList:       uint32(min(max(maxHeader, 1), 1<<30)),
			maxReadFrame:        defaultMaxReadFrame,
			streamWindow:        o.streamWindow(),
			connWindow:          o.connWindow(),
			maxStreamWindow:     maxStreamWindow,
			maxConnWindow:       maxConnWindow,
			bdp:                 o.bdp,
			handshakeTimeout:    DefaultHandshakeTimeout,
			keepalive:           ka,
			flowControlTimeout:  o.flowControlTimeout,
			writeStallTimeout:   o.writeStallTimeout,
			maxStreamSendBuffer: defaultStreamSendBuffer,
			connBufferLimit:     o.connBufferLimit(),
		},
	}
	c.pingInterval.Store(int64(ka.pingInterval))
	c.lim.idleTimeout = c.idleTimeout
	if cfg.Addr != "" {
		if err := transport.CheckAddr(cfg.Addr); err != nil {
			return nil, err
		}
		if c.tls != nil {
			c.url = "https://" + cfg.Addr
		} else {
			c.url = "http://" + cfg.Addr
		}
	}
	return c, nil
}

// URL returns the base URL for Config.Addr ("https://addr" for h2-rpc,
// "http://addr" for h2c-rpc), or "" if Config.Addr was empty.
func (c *Client) URL() string { return c.url }

// Do sends req and returns the response once its headers arrive, as
// [http.Client.Do] does, except that redirects are returned rather than
// followed and no transparent compression is asked for. The request body
// is sent while the response is read, so bidirectional streams work; Do
// closes it. The caller must close the response body. Cancelling the
// request's context resets the stream, before or after Do returns.
//
// Requests the server did not process (refused streams, streams above a
// GOAWAY's last stream ID) are retried on another connection when their
// body can be sent again (no body, or GetBody set).
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if err := c.checkRequest(req); err != nil {
		closeBody(req)
		return nil, err
	}
	ctx := req.Context()
	addr := authorityAddr(req.URL)
	body := req.Body
	diagnosed := false
	for attempt := 0; ; attempt++ {
		cc, err := c.getConn(ctx, addr)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := cc.roundTrip(req, body)
		if err == nil {
			return resp, nil
		}
		if pe := (*prefaceError)(nil); errors.As(err, &pe) {
			// The server closed the connection before speaking HTTP/2:
			// find out whether it speaks something else.
			if !diagnosed && ctx.Err() == nil {
				diagnosed = true
				if wrong := c.diagnose(ctx, addr); wrong != nil {
					if retry := (retryError{}); errors.As(err, &retry) && retry.bodyUnread && body != nil {
						_ = body.Close()
					}
					return nil, wrong
				}
			}
			if !errors.As(err, new(retryError)) {
				return nil, &transport.ConnectionLostError{Addr: addr, Err: pe.err}
			}
		}
		var retry retryError
		if !errors.As(err, &retry) || attempt >= 5 || ctx.Err() != nil {
			switch {
			case ctx.Err() != nil:
				err = ctx.Err()
			case errors.As(err, &retry):
				err = notProcessed(retry.err, addr)
			}
			return nil, err
		}
		if req.Body != nil && req.Body != http.NoBody && !retry.bodyUnread {
			if req.GetBody == nil {
				return nil, notProcessed(retry.err, addr)
			}
			if body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

// retryError wraps the error of a request the server did not process.
type retryError struct {
	err        error
	bodyUnread bool // the body was not touched: send it as it is
}

func (e retryError) Error() string { return e.err.Error() }
func (e retryError) Unwrap() error { return e.err }

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// checkRequest refuses requests this client cannot send.
func (c *Client) checkRequest(req *http.Request) error {
	if req.URL == nil {
		return errors.New("h2: request without a URL")
	}
	want := "http"
	if c.tls != nil {
		want = "https"
	}
	if req.URL.Scheme != want {
		if c.tls == nil && req.URL.Scheme == "https" {
			return fmt.Errorf("h2: the URL %s is https://, but an %q client speaks HTTP/2 without TLS and sends http:// URLs; for a TLS server use %q", transport.RedactedURL(req.URL), c.name, NameH2)
		}
		if c.tls != nil && req.URL.Scheme == "http" {
			return fmt.Errorf("h2: the URL %s is http://, but an %q client speaks HTTP/2 over TLS and sends https:// URLs; for a cleartext server use %q", transport.RedactedURL(req.URL), c.name, NameH2C)
		}
		return fmt.Errorf("h2: a %s client sends %s:// URLs, not %q", c.name, want, req.URL.Scheme+"://")
	}
	if req.URL.Host == "" {
		return errors.New("h2: request URL without a host")
	}
	if req.Method != "" && !validMethod(req.Method) {
		return fmt.Errorf("h2: invalid method %q", req.Method)
	}
	return nil
}

// authorityAddr returns host:port for u, with the scheme's default port.
func authorityAddr(u *url.URL) string {
	port := u.Port()
	if port != "" && u.Host[0] != '[' {
		return u.Host // already host:port
	}
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// getConn returns a connection to addr with a stream slot reserved for the
// caller, dialling one if none has room.
func (c *Client) getConn(ctx context.Context, addr string) (*clientConn, error) {
	for {
		c.mu.Lock()
		p := c.pools[addr]
		if p == nil {
			p = &hostPool{key: addr}
			c.pools[addr] = p
		}
		for _, cc := range p.conns {
			if cc.tryReserve() {
				c.mu.Unlock()
				return cc, nil
			}
		}
		if d := p.dialing; d != nil {
			c.mu.Unlock()
			select {
			case <-d.done:
				if d.err != nil {
					return nil, d.err
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		if c.maxConnsPerHost == 0 || len(p.conns) < c.maxConnsPerHost {
			d := &dialCall{done: make(chan struct{})}
			p.dialing = d
			c.mu.Unlock()
			go c.dialConn(p, addr, d)
			continue
		}
		// At MaxConnsPerHost, every connection busy: wait for a slot.
		if p.wait == nil {
			p.wait = make(chan struct{})
		}
		wait := p.wait
		p.waiting.Add(1)
		c.mu.Unlock()
		select {
		case <-wait:
			p.waiting.Add(-1)
		case <-ctx.Done():
			p.waiting.Add(-1)
			return nil, ctx.Err()
		}
	}
}

// dialConn opens a connection for p and adds it to the pool.
func (c *Client) dialConn(p *hostPool, addr string, d *dialCall) {
	cc, err := c.newClientConn(addr, p)
	c.mu.Lock()
	p.dialing = nil
	if err == nil {
		p.conns = append(p.conns, cc)
		c.nconns.Add(1)
	} else {
		c.dropPoolIfEmptyLocked(p)
	}
	d.err = err
	c.mu.Unlock()
	close(d.done)
}

// dropPoolIfEmptyLocked forgets a host's pool once it holds no connection
// and nobody dials or waits for one, so that a client that talked to many
// hosts keeps nothing for those it no longer calls. A caller still
// holding p finds a new pool on its next look.
func (c *Client) dropPoolIfEmptyLocked(p *hostPool) {
	if len(p.conns) == 0 && p.dialing == nil && p.waiting.Load() == 0 && c.pools[p.key] == p {
		delete(c.pools, p.key)
	}
}

// slotFreed tells requests waiting at MaxConnsPerHost to look again.
func (c *Client) slotFreed(p *hostPool) {
	if p.waiting.Load() == 0 {
		return
	}
	c.mu.Lock()
	if p.wait != nil {
		close(p.wait)
		p.wait = nil
	}
	c.mu.Unlock()
}

// removeConn takes a closed or retiring connection out of its pool.
func (c *Client) removeConn(cc *clientConn) {
	c.mu.Lock()
	p := cc.pool
	for i, x := range p.conns {
		if x == cc {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			c.nconns.Add(-1)
			break
		}
	}
	if p.wait != nil {
		close(p.wait)
		p.wait = nil
	}
	c.dropPoolIfEmptyLocked(p)
	c.mu.Unlock()
}

// overIdleLimit reports whether the client has more connections than it
// may keep idle, so that a connection falling idle must check.
func (c *Client) overIdleLimit() bool {
	return int(c.nconns.Load()) > min(c.maxIdle, c.maxIdlePerHost)
}

// tooManyIdle reports whether the pool keeps more idle connections than
// allowed, counting cc.
func (c *Client) tooManyIdle(cc *clientConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	host, all := 0, 0
	for _, p := range c.pools {
		for _, x := range p.conns {
			if x.active.Load() == 0 {
				all++
				if p == cc.pool {
					host++
				}
			}
		}
	}
	return host > c.maxIdlePerHost || all > c.maxIdle
}

// backOffPings doubles the keep-alive interval of new connections, once
// for each connection told too_many_pings while it pinged every interval.
func (c *Client) backOffPings(interval time.Duration) {
	if interval > 0 {
		c.pingInterval.CompareAndSwap(int64(interval), int64(2*interval))
	}
}

// CloseIdleConnections closes the pooled connections that carry no
// stream. Connections in use are not interrupted.
func (c *Client) CloseIdleConnections() {
	c.mu.Lock()
	var idle []*clientConn
	for _, p := range c.pools {
		for _, cc := range p.conns {
			if cc.retireIfIdleLocked() {
				idle = append(idle, cc)
			}
		}
	}
	c.mu.Unlock()
	for _, cc := range idle {
		cc.closeIdle()
	}
}

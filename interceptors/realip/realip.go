// Package realip finds the address of the client that made a call when
// the server sits behind proxies (load balancers, CDNs, ingress
// controllers), which put the client's address in request headers:
// Forwarded (RFC 7239), X-Forwarded-For and X-Real-IP.
//
//	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
//	rpc.WithHandlerInterceptors(realip.New(realip.WithTrustedProxies(proxies...)), …)
//	…
//	ip, ok := realip.FromContext(ctx) // in the handler, or an interceptor after it
//
// Anybody can send those headers, so they are believed only as far as they
// were written by proxies the server trusts: the headers are read only when
// the call's peer (the connection's remote address) is in one of the
// trusted prefixes, and a list of hops (Forwarded, X-Forwarded-For) is read
// from its end, the hop the trusted proxy itself added, towards its start,
// skipping the addresses of trusted proxies: the first address that is not
// a trusted proxy's is the client's. Addresses further left were written by
// the client or by proxies nobody vouches for, and are ignored. Without
// trusted proxies (the default), or for a peer outside them, the client's
// address is the peer's.
//
// The headers are tried in the order of WithHeaders (by default Forwarded,
// then X-Forwarded-For, then X-Real-IP); the first that yields an address
// wins. A hop that is not an IP address (Forwarded's "unknown" or an
// obfuscated "_name", a malformed value) ends the reading of its header
// there: the trusted proxy that wrote it did not know the client, and the
// next header, or the peer, is used instead.
//
// The interceptor runs in the handler's call chain, before the request is
// read; put it before the interceptors that want the client's address
// (rate limits per client, logging fields, auth by network).
package realip

import (
	"context"
	"net/netip"
	"net/textproto"
	"strings"

	"polyconnect.dev/protocol/rpc"
)

// Header names the interceptor reads.
const (
	HeaderForwarded     = "Forwarded"
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderXRealIP       = "X-Real-Ip"
)

// Option configures the interceptor.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	trusted []netip.Prefix
	headers []string
}

// WithTrustedProxies sets the networks of the proxies whose headers are
// believed (none by default: every call's client is its peer). Give the
// addresses of your own load balancers, not whole address spaces that
// others share.
func WithTrustedProxies(prefixes ...netip.Prefix) Option {
	return optionFunc(func(c *config) {
		for _, p := range prefixes {
			c.trusted = append(c.trusted, p.Masked())
		}
	})
}

// WithHeaders sets the headers read, in order of preference, among
// HeaderForwarded, HeaderXForwardedFor and HeaderXRealIP. Name only those
// your proxies set (and overwrite): a header they pass through unchanged
// is the client's to choose.
func WithHeaders(headers ...string) Option {
	return optionFunc(func(c *config) {
		c.headers = c.headers[:0]
		for _, h := range headers {
			c.headers = append(c.headers, textproto.CanonicalMIMEHeaderKey(h))
		}
	})
}

// New returns a handler interceptor that puts each call's client address
// on its context, for FromContext.
func New(opts ...Option) rpc.HandlerInterceptor {
	c := &config{headers: []string{HeaderForwarded, HeaderXForwardedFor, HeaderXRealIP}}
	for _, o := range opts {
		o.apply(c)
	}
	return rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			info, ok := rpc.HandlerCallInfo(ctx)
			if !ok {
				return next(ctx, conn)
			}
			if ip, ok := c.clientIP(info); ok {
				ctx = context.WithValue(ctx, ipKey{}, ip)
			}
			return next(ctx, conn)
		}
	})
}

type ipKey struct{}

// FromContext returns the client address that the interceptor found for
// the call whose context ctx is (or derives from). It reports false when
// the interceptor did not run, or the peer's address is no IP address (an
// in-memory connection, say) and no trusted header gave one.
func FromContext(ctx context.Context) (netip.Addr, bool) {
	ip, ok := ctx.Value(ipKey{}).(netip.Addr)
	return ip, ok
}

// clientIP returns the client's address of the call described by info.
func (c *config) clientIP(info *rpc.CallInfo) (netip.Addr, bool) {
	peer, ok := parseHop(info.Peer().Addr)
	if !ok || !c.isTrusted(peer) {
		return peer, ok
	}
	h := info.RequestHeader()
	for _, name := range c.headers {
		values := h.Values(name)
		if len(values) == 0 {
			continue
		}
		var ip netip.Addr
		switch name {
		case HeaderForwarded:
			ip, ok = c.fromList(values, forwardedFor)
		case HeaderXForwardedFor:
			ip, ok = c.fromList(values, strings.TrimSpace)
		case HeaderXRealIP:
			// One address, written by the proxy: the last line if it
			// appended one.
			ip, ok = parseHop(strings.TrimSpace(values[len(values)-1]))
		default:
			continue
		}
		if ok {
			return ip, true
		}
	}
	return peer, true
}

// fromList reads a list of hops (header lines, each a comma-separated
// list, in order) from its end: it returns the first address that is not a
// trusted proxy's, or the first hop's when all are trusted. hop extracts
// the address text of one element. It fails at an element that is no
// address.
func (c *config) fromList(lines []string, hop func(string) string) (netip.Addr, bool) {
	var last netip.Addr
	for i := len(lines) - 1; i >= 0; i-- {
		elems := strings.Split(lines[i], ",")
		for j := len(elems) - 1; j >= 0; j-- {
			if strings.TrimSpace(elems[j]) == "" {
				continue // empty elements are allowed in lists
			}
			ip, ok := parseHop(hop(elems[j]))
			if !ok {
				return netip.Addr{}, false
			}
			if !c.isTrusted(ip) {
				return ip, true
			}
			last = ip
		}
	}
	return last, last.IsValid()
}

// forwardedFor returns the value of the for parameter of one element of a
// Forwarded header, unquoted, or "" if it has none.
func forwardedFor(elem string) string {
	for _, pair := range strings.Split(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return v
	}
	return ""
}

// parseHop parses an address as hops and peers are written: "ip",
// "ip:port", "[v6]" or "[v6]:port". IPv4-mapped IPv6 addresses become
// IPv4, and zones are dropped, so that trusted prefixes match either way.
func parseHop(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		ap, aerr := netip.ParseAddrPort(s)
		if aerr != nil {
			if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
				return parseHop(s[1 : len(s)-1])
			}
			return netip.Addr{}, false
		}
		ip = ap.Addr()
	}
	return ip.Unmap().WithZone(""), true
}

func (c *config) isTrusted(ip netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

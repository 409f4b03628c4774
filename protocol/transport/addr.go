package transport

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// CheckAddr reports whether addr is usable as [Config.Addr]: "host:port",
// ":port" or "[ipv6]:port", with a numeric port. It explains the usual
// mistakes in one line: a URL instead of an address (the transport, not
// the address, decides between http and https), a path, a missing port.
// Transports call it on a non-empty Addr when they build a server or a
// client; an empty Addr is for each transport to accept or refuse.
func CheckAddr(addr string) error {
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		return fmt.Errorf("transport: addr %q has a scheme: give host:port, such as %q; the transport decides between http and https", addr, beforePath(rest))
	}
	if hp := beforePath(addr); hp != addr {
		return fmt.Errorf("transport: addr %q has a path: give host:port, such as %q", addr, hp)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) && ae.Err == "missing port in address" {
			bare := strings.Trim(addr, "[]")
			return fmt.Errorf("transport: addr %q has no port: give host:port, such as %q, or %q for any free port", addr, net.JoinHostPort(bare, "8080"), net.JoinHostPort(bare, "0"))
		}
		if ae != nil {
			return fmt.Errorf("transport: addr %q is not host:port: %s", addr, ae.Err)
		}
		return fmt.Errorf("transport: addr %q is not host:port: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("transport: addr %q: the port %q is not a number from 0 to 65535", addr, port)
	}
	if strings.ContainsAny(host, " \t") {
		return fmt.Errorf("transport: addr %q: the host has spaces", addr)
	}
	return nil
}

// beforePath cuts s at the start of a path, query or fragment.
func beforePath(s string) string {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		return s[:i]
	}
	return s
}

// DialAddr returns a listener's address as "host:port" for a client on
// the same machine to dial: an unspecified IP (a server listening on all
// interfaces, "0.0.0.0" or "::") becomes the loopback address of the same
// family. Transports build their servers' URLs from it. Addresses other
// than TCP and UDP come back as their String.
func DialAddr(addr net.Addr) string {
	var ip net.IP
	var port int
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, port = a.IP, a.Port
	case *net.UDPAddr:
		ip, port = a.IP, a.Port
	default:
		return addr.String()
	}
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.Equal(net.IPv6unspecified):
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(port))
}

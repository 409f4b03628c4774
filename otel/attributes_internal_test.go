package otelrpc

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"polyconnect.dev/protocol/rpc"
)

func TestSplitHostPort(t *testing.T) {
	for _, c := range []struct {
		addr string
		host string
		port int
	}{
		{"example.com", "example.com", -1},
		{"example.com:8080", "example.com", 8080},
		{"127.0.0.1:0", "127.0.0.1", 0},
		{"[::1]:443", "::1", 443},
		{"[::1]", "::1", -1},
		{"::1", "::1", -1},
		{"[::1", "[::1", -1},
		{"[::1]x", "[::1]x", -1},
		{"host:", "host:", -1},
		{"host:http", "host:http", -1},
		{"host:65536", "host:65536", -1},
		{"host:123456", "host:123456", -1},
		{"/tmp/sock", "/tmp/sock", -1},
	} {
		host, port := splitHostPort(c.addr)
		if host != c.host || port != c.port {
			t.Errorf("splitHostPort(%q) = %q, %d, want %q, %d", c.addr, host, port, c.host, c.port)
		}
		if n := testing.AllocsPerRun(10, func() { splitHostPort(c.addr) }); n != 0 {
			t.Errorf("splitHostPort(%q) allocates %v times", c.addr, n)
		}
	}
}

// The record cache returns the same option for the same key, a distinct
// one for another, and stops growing at its bound.
func TestRecordCache(t *testing.T) {
	var c recordCache
	ok := []attribute.KeyValue{attribute.String("rpc.response.status_code", "OK")}
	a := c.get(recordKey{procedure: "/a/A"}, ok, nil)
	if b := c.get(recordKey{procedure: "/a/A"}, nil, nil); b != a {
		t.Error("a second lookup built a new option")
	}
	if b := c.get(recordKey{procedure: "/a/B"}, ok, nil); b == a {
		t.Error("another key got the same option")
	}
	for i := range maxCachedSets + 10 {
		c.get(recordKey{procedure: "/p", code: rpc.Code(i)}, ok, nil)
	}
	if n := len(*c.m.Load()); n != maxCachedSets {
		t.Errorf("cache holds %d entries, want the bound %d", n, maxCachedSets)
	}
}

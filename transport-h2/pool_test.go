package h2

import (
	"net"
	"net/http"
	"testing"
)

// TestIdlePoolsAreForgotten: a client keeps nothing for hosts it no longer
// has connections to. It used to keep a pool per host forever.
func TestIdlePoolsAreForgotten(t *testing.T) {
	c := h2cClient(t)
	for range 3 {
		srv := startServer(t, serverConfig(t, NameH2C), http.NotFoundHandler())
		do(t, c, newRequest(t, http.MethodGet, srv.URL(), nil))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if _, err := get(t, c, "http://"+closed+"/"); err == nil {
		t.Fatal("a call to a closed port succeeded")
	}
	c.mu.Lock()
	n := len(c.pools)
	c.mu.Unlock()
	if n != 3 {
		t.Errorf("%d pools with three hosts connected and one refused, want 3", n)
	}
	c.CloseIdleConnections()
	eventually(t, "the idle pools to go", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.pools) == 0
	})
}

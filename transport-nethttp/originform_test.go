package nethttp

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

// TestOriginFormOnly: request targets that are not an absolute path (a
// procedure name without its leading slash parsed as a scheme and an
// opaque part, "*" for POST) never reach the handler; absolute-form
// targets, which carry a path, do.
func TestOriginFormOnly(t *testing.T) {
	var seen atomic.Int32
	srv, err := NewServer(transport.Config{Name: transport.NameHTTP1, Addr: "127.0.0.1:0"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	send := func(target string) int {
		nc, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		fmt.Fprintf(nc, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n", target)
		_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			t.Fatalf("%q: %v", target, err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for _, target := range []string{"greet.v1.GreetService:1/Greet", "*"} {
		if code := send(target); code != http.StatusBadRequest || seen.Load() != 0 {
			t.Errorf("%q: status %d, handler called %d times", target, code, seen.Load())
		}
	}
	if code := send("http://test/greet.v1.GreetService/Greet"); code != http.StatusOK || seen.Load() != 1 {
		t.Errorf("absolute form: status %d, handler called %d times", code, seen.Load())
	}
}

package e2e_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport/balance"
)

// replica is a real loopback HTTP server (HTTP/1.1 and h2c on one port)
// that can be killed and restarted on the same address.
type replica struct {
	t       testing.TB
	addr    string
	handler http.Handler
	hits    atomic.Int64

	mu  sync.Mutex
	srv *http.Server
	wg  sync.WaitGroup
}

// newReplica starts a replica on host (an IP such as "127.0.0.1") and port
// ("0" for any).
func newReplica(t testing.TB, host, port string, h http.Handler) *replica {
	t.Helper()
	r := &replica{t: t, handler: h}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.kill)
	return r
}

func (r *replica) serve(ln net.Listener) {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.hits.Add(1)
			r.handler.ServeHTTP(w, req)
		}),
		Protocols: &protocols,
	}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	r.wg.Go(func() { _ = srv.Serve(ln) })
}

// kill closes the listener and every connection at once, as a crash would.
func (r *replica) kill() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	r.wg.Wait()
}

// restart serves again on the same address. The port was just released,
// so a few attempts are allowed for the kernel to let it go.
func (r *replica) restart() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.serve(ln)
}

// echo answers a request with its body, or "ok" for a request without one.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if len(b) == 0 {
		b = []byte("ok")
	}
	w.Header().Set("Seen-Host", r.Host)
	_, _ = w.Write(b)
})

// backendFor builds a Backend of the given kind ("http1" or "h2c") for an
// address.
func backendFor(kind string) func(addr string) (balance.Backend, error) {
	return func(addr string) (balance.Backend, error) {
		var protocols http.Protocols
		if kind == "h2c" {
			protocols.SetUnencryptedHTTP2(true)
		} else {
			protocols.SetHTTP1(true)
		}
		return &http.Client{Transport: &http.Transport{
			Protocols:           &protocols,
			MaxIdleConnsPerHost: 64,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		}}, nil
	}
}

func addrsOf(rs ...*replica) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.addr)
	}
	return out
}

// get sends one request through c and returns the body.
func get(ctx context.Context, c *balance.Client, target, body string) (string, error) {
	method, rd := http.MethodGet, io.Reader(nil)
	if body != "" {
		method, rd = http.MethodPost, strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+target+"/x", rd)
	if err != nil {
		return "", err
	}
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", errors.New(res.Status)
	}
	return string(b), nil
}

// checkNoBalanceGoroutines fails if a goroutine of package balance is
// still running. Goroutines end asynchronously, so it polls for a while
// (generous: the machine is shared with other builds).
func checkNoBalanceGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var leaked []string
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "transport/balance.(*Client)") && !strings.Contains(g, "checkNoBalanceGoroutines") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("balance goroutines still running:\n%s", strings.Join(leaked, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport/balance"
)

const target = "svc.test:8080"

func TestRoundRobinSpreadsEvenly(t *testing.T) {
	for _, kind := range []string{"http1", "h2c"} {
		t.Run(kind, func(t *testing.T) {
			rs := []*replica{newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", echo)}
			c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor(kind))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			for i := range 300 {
				body, err := get(t.Context(), c, target, fmt.Sprint("m", i))
				if err != nil || body != fmt.Sprint("m", i) {
					t.Fatalf("call %d: %q, %v", i, body, err)
				}
			}
			for i, r := range rs {
				if n := r.hits.Load(); n != 100 {
					t.Errorf("replica %d got %d requests, want 100", i, n)
				}
			}
		})
	}
}

func TestHostHeaderIsTheTarget(t *testing.T) {
	r := newReplica(t, "127.0.0.1", "0", echo)
	c, err := balance.New(target, balance.Static(r.addr), backendFor("h2c"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+target+"/x?q=1", nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Seen-Host"); got != target {
		t.Errorf("replica saw Host %q, want %q", got, target)
	}
	if req.URL.Host != target {
		t.Errorf("the caller's request was modified: URL host %q", req.URL.Host)
	}

	other, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://elsewhere:1/x", nil)
	if _, err := c.Do(other); err == nil || !strings.Contains(err.Error(), "elsewhere:1") {
		t.Errorf("request for another host: err = %v, want one naming the host", err)
	}
}

func TestLeastLoadedAvoidsBusyReplica(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	blocking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Block") != "" {
			entered <- struct{}{}
			<-release
		}
		echo(w, r)
	})
	rs := []*replica{newReplica(t, "127.0.0.1", "0", blocking), newReplica(t, "127.0.0.1", "0", blocking), newReplica(t, "127.0.0.1", "0", blocking)}
	c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor("h2c"), balance.WithPolicy(balance.LeastLoaded))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()

	var wg sync.WaitGroup
	wg.Go(func() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+target+"/x", nil)
		req.Header.Set("Block", "1")
		res, err := c.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	})
	<-entered // one replica now holds a request in flight
	var busy *replica
	for _, r := range rs {
		if r.hits.Load() == 1 {
			busy = r
		}
	}
	for i := range 40 {
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	close(release)
	wg.Wait()
	if n := busy.hits.Load(); n != 1 {
		t.Errorf("the busy replica got %d requests, want only the blocked one", n)
	}
	for i, r := range rs {
		if r != busy && r.hits.Load() == 0 {
			t.Errorf("idle replica %d got no request", i)
		}
	}
	if got := balance.LeastLoaded.String(); got != "least_loaded" {
		t.Errorf("String = %q", got)
	}
}

// opaqueBody is a request body without GetBody (http.NewRequest sets
// GetBody for the readers it knows), counting its Closes.
type opaqueBody struct {
	io.Reader
	closes *atomic.Int32
}

func (b opaqueBody) Close() error { b.closes.Add(1); return nil }

func TestDeadReplicaIsSkippedWithBodiesIntact(t *testing.T) {
	for _, kind := range []string{"http1", "h2c"} {
		t.Run(kind, func(t *testing.T) {
			rs := []*replica{newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", echo)}
			rs[1].kill() // connection refused from now on
			c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor(kind),
				balance.WithEjection(time.Hour, time.Hour)) // no probe during the test
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			for i := range 60 {
				var body io.Reader
				want := "ok"
				var closes atomic.Int32
				switch i % 3 {
				case 1: // GetBody set
					want = fmt.Sprint("body-", i)
					body = strings.NewReader(want)
				case 2: // no GetBody: the balancer must hold it for a resend
					want = fmt.Sprint("opaque-", i)
					body = opaqueBody{strings.NewReader(want), &closes}
				}
				method := http.MethodPost
				if body == nil {
					method = http.MethodGet
				}
				req, _ := http.NewRequestWithContext(t.Context(), method, "http://"+target+"/x", body)
				res, err := c.Do(req)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				got, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || string(got) != want {
					t.Fatalf("call %d: body %q, %v; want %q", i, got, err, want)
				}
				if i%3 == 2 && closes.Load() != 1 {
					t.Fatalf("call %d: opaque body closed %d times, want once", i, closes.Load())
				}
			}
			if rs[0].hits.Load()+rs[2].hits.Load() != 60 {
				t.Errorf("live replicas served %d+%d requests, want 60", rs[0].hits.Load(), rs[2].hits.Load())
			}
		})
	}
}

func TestAllReplicasDownFailsWithTheDialError(t *testing.T) {
	rs := []*replica{newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", echo)}
	rs[0].kill()
	rs[1].kill()
	c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor("h2c"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for range 3 {
		_, err := get(t.Context(), c, target, "x")
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("err = %v, want connection refused", err)
		}
	}
}

func TestEjectedReplicaIsProbedBack(t *testing.T) {
	rs := []*replica{newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", echo)}
	c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor("h2c"),
		balance.WithEjection(20*time.Millisecond, 40*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	rs[1].kill()
	for i := range 20 {
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatalf("call %d with a replica down: %v", i, err)
		}
	}
	rs[1].restart()
	before := rs[1].hits.Load()
	// The ejection lasts at most 40 ms × 1.2; allow far more for a loaded
	// machine before declaring the replica never came back.
	deadline := time.Now().Add(20 * time.Second)
	for rs[1].hits.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("the restarted replica never got a request")
		}
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Once back, it takes its turn again.
	base0, base1 := rs[0].hits.Load(), rs[1].hits.Load()
	for range 20 {
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatal(err)
		}
	}
	if d0, d1 := rs[0].hits.Load()-base0, rs[1].hits.Load()-base1; d0 != 10 || d1 != 10 {
		t.Errorf("after recovery: %d and %d requests, want 10 each", d0, d1)
	}
}

func TestCancelledCallsDoNotEject(t *testing.T) {
	release := make(chan struct{})
	// fast counts each replica's requests without the Slow header: a
	// cancelled request may reach its replica at any time, even after the
	// counts below are read, so replica.hits cannot tell the two apart.
	var fast [2]atomic.Int64
	slow := func(i int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Slow") != "" {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			} else {
				fast[i].Add(1)
			}
			echo(w, r)
		})
	}
	rs := []*replica{newReplica(t, "127.0.0.1", "0", slow(0)), newReplica(t, "127.0.0.1", "0", slow(1))}
	c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor("h2c"),
		balance.WithEjection(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	defer close(release)
	for range 4 {
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+target+"/x", nil)
		req.Header.Set("Slow", "1")
		done := make(chan error, 1)
		go func() {
			res, err := c.Do(req)
			if err == nil {
				res.Body.Close()
			}
			done <- err
		}()
		cancel()
		<-done
	}
	// Had a cancellation ejected a replica (for an hour), the other would
	// take every call.
	for range 10 {
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatal(err)
		}
	}
	if d0, d1 := fast[0].Load(), fast[1].Load(); d0 != 5 || d1 != 5 {
		t.Errorf("after cancellations: %d and %d requests, want 5 each", d0, d1)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := balance.New("no-port", balance.Static("a:1"), backendFor("h2c")); err == nil {
		t.Error("target without a port accepted")
	}
	if _, err := balance.New(target, balance.Static(), backendFor("h2c")); err == nil {
		t.Error("empty static list accepted")
	}
	if _, err := balance.New(target, nil, backendFor("h2c")); err == nil {
		t.Error("nil resolver accepted")
	}
	failing := func(string) (balance.Backend, error) { return nil, fmt.Errorf("bad config") }
	if _, err := balance.New(target, balance.Static("a:1"), failing); err == nil || !strings.Contains(err.Error(), "bad config") {
		t.Errorf("backend error: %v", err)
	}
	if _, err := balance.ParsePolicy("random"); err == nil {
		t.Error("ParsePolicy accepted an unknown name")
	}
	if p, err := balance.ParsePolicy(""); err != nil || p != balance.RoundRobin {
		t.Errorf("ParsePolicy(\"\") = %v, %v", p, err)
	}
}

package e2e_test

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport/balance"
)

// unavailableWhen answers "unavailable" in the way named while down is set,
// and echoes otherwise.
func unavailableWhen(down *atomic.Bool, how string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !down.Load() {
			echo(w, r)
			return
		}
		switch how {
		case "503": // Connect's unavailable, and any HTTP server's
			w.WriteHeader(http.StatusServiceUnavailable)
		case "grpc trailers-only":
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "14")
			w.WriteHeader(http.StatusOK)
		case "grpc trailers":
			w.Header().Set("Content-Type", "application/grpc")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("payload"))
			w.Header().Set(http.TrailerPrefix+"Grpc-Status", "14")
		}
	})
}

// call makes a call through c, reads and closes its body, and returns its
// status.
func call(t *testing.T, c *balance.Client) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+target+"/x", nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestUnavailableAnswersEject: a replica answering 503 or gRPC UNAVAILABLE
// is ejected like a dead one. Before, any HTTP response counted as
// success and it was never ejected.
func TestUnavailableAnswersEject(t *testing.T) {
	for _, how := range []string{"503", "grpc trailers-only", "grpc trailers"} {
		t.Run(how, func(t *testing.T) {
			var down atomic.Bool
			down.Store(true)
			rs := []*replica{newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", unavailableWhen(&down, how))}
			c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor("h2c"),
				balance.WithEjection(time.Hour, time.Hour)) // no probe during the test
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			// Round robin sends the first two calls one to each; the
			// answer ejects the second replica, so the rest go to the first.
			for range 20 {
				call(t, c)
			}
			if n := rs[1].hits.Load(); n != 1 {
				t.Fatalf("the unavailable replica got %d of 20 calls, want 1: it was not ejected", n)
			}
		})
	}
}

// TestUnavailableReplicaIsProbedBack: once a replica that answered
// unavailable serves again, a probe brings it back into rotation.
func TestUnavailableReplicaIsProbedBack(t *testing.T) {
	for _, how := range []string{"503", "grpc trailers-only", "grpc trailers"} {
		t.Run(how, func(t *testing.T) {
			var down atomic.Bool
			down.Store(true)
			rs := []*replica{newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", unavailableWhen(&down, how))}
			c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor("h2c"),
				balance.WithEjection(20*time.Millisecond, 40*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			call(t, c)
			call(t, c) // the second replica answers unavailable and is ejected
			down.Store(false)
			// It comes back at a probe once it serves again. The ejection
			// lasts at most 40 ms × 1.2; the bound is for a loaded machine.
			before := rs[1].hits.Load()
			deadline := time.Now().Add(20 * time.Second)
			for rs[1].hits.Load() == before {
				if time.Now().After(deadline) {
					t.Fatal("the replica never got a probe")
				}
				call(t, c)
				time.Sleep(5 * time.Millisecond)
			}
			base0, base1 := rs[0].hits.Load(), rs[1].hits.Load()
			for range 20 {
				if code := call(t, c); code != http.StatusOK {
					t.Fatalf("status %d after recovery", code)
				}
			}
			if d0, d1 := rs[0].hits.Load()-base0, rs[1].hits.Load()-base1; d0 != 10 || d1 != 10 {
				t.Errorf("after recovery: %d and %d requests, want 10 each", d0, d1)
			}
		})
	}
}

// TestUnavailableEjectionOff: with WithUnavailableEjection(false) such a
// replica keeps its turn.
func TestUnavailableEjectionOff(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	rs := []*replica{newReplica(t, "127.0.0.1", "0", echo), newReplica(t, "127.0.0.1", "0", unavailableWhen(&down, "503"))}
	c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor("h2c"),
		balance.WithEjection(time.Hour, time.Hour), balance.WithUnavailableEjection(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for range 20 {
		call(t, c)
	}
	if n := rs[1].hits.Load(); n != 10 {
		t.Errorf("the replica answering 503 got %d of 20 calls, want its 10", n)
	}
}

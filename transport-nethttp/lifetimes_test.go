package nethttp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
)

// The ages below are short so that the tests are quick: connection age is
// time by definition. The outcomes do not depend on scheduling: the tests
// wait for what the age causes (a new connection, a closed stream) within
// generous bounds.

// countingDialer counts the connections a client opens.
func countingDialer(n *atomic.Int32) nethttp.ClientOption {
	return nethttp.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	})
}

// TestMaxConnectionAgeReplacesConnection: past its age a connection is
// replaced (HTTP/2: GOAWAY; HTTP/1.1: Connection: close) and no call
// fails.
func TestMaxConnectionAgeReplacesConnection(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			cfg := s.server
			cfg.MaxConnectionAge = transport.Duration(50 * time.Millisecond)
			srv := startServer(t, cfg, http.HandlerFunc(protoHandler))
			var dials atomic.Int32
			c := newClient(t, s.client, countingDialer(&dials))
			deadline := time.Now().Add(waitFor)
			calls := 0
			for dials.Load() < 3 {
				if time.Now().After(deadline) {
					t.Fatalf("%d connections after %d calls: the age does not replace them", dials.Load(), calls)
				}
				if _, _, err := get(c, srv.URL()); err != nil {
					t.Fatalf("call %d failed: %v", calls, err)
				}
				calls++
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestMaxConnectionAgeGrace: a call still running a grace after its
// connection aged is cut off as a lost connection.
func TestMaxConnectionAgeGrace(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			cfg := s.server
			cfg.MaxConnectionAge = transport.Duration(50 * time.Millisecond)
			cfg.MaxConnectionAgeGrace = transport.Duration(50 * time.Millisecond)
			var started atomic.Bool
			srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				started.Store(true)
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-r.Context().Done() // a stream that never ends by itself
			}))
			c := newClient(t, s.client)
			res := doBeforeAgeEnds(t, &started, func() (*http.Response, error) { return c.Do(mustRequest(t, srv.URL())) })
			defer res.Body.Close()
			read := make(chan error, 1)
			go func() {
				_, err := io.ReadAll(res.Body)
				read <- err
			}()
			select {
			case err := <-read:
				if !errors.Is(err, transport.ErrConnectionLost) {
					t.Fatalf("%v (%T): want a lost connection", err, err)
				}
			case <-time.After(waitFor):
				t.Fatal("the stream outlived its connection's age and grace")
			}
		})
	}
}

// TestMaxConnectionAgeWithoutGrace: with no grace, a call in flight when
// its connection ages finishes, and the connection closes after it.
func TestMaxConnectionAgeWithoutGrace(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			cfg := s.server
			cfg.MaxConnectionAge = transport.Duration(50 * time.Millisecond)
			release := make(chan struct{})
			srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-release
				_, _ = io.WriteString(w, "done")
			}))
			var dials atomic.Int32
			c := newClient(t, s.client, countingDialer(&dials))
			res, err := c.Do(mustRequest(t, srv.URL()))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(150 * time.Millisecond) // past the age (and its jitter): the connection is aged
			close(release)
			if body := readAll(t, res); body != "done" {
				t.Fatalf("body %q", body)
			}
			// The next call tells the client to go away (GOAWAY, or
			// Connection: close), and a later one needs a new connection;
			// every call succeeds. (Calls until the new connection shows,
			// rather than exactly two: on a busy machine the age's timer
			// can fire late, and the new connection can age in turn.)
			deadline := time.Now().Add(waitFor)
			for i := 0; dials.Load() < 2; i++ {
				if time.Now().After(deadline) {
					t.Fatalf("%d calls after the age and still one connection", i)
				}
				if _, _, err := get(c, srv.URL()); err != nil {
					t.Fatalf("call %d after the age: %v", i, err)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestServerPingsSilentClient: with PingInterval, an HTTP/2 server pings a
// client that has gone silent and, when the ping goes unanswered for
// PingTimeout, closes the connection, ending its calls.
func TestServerPingsSilentClient(t *testing.T) {
	cfg := transport.Config{Name: transport.NameH2C, Addr: "127.0.0.1:0",
		PingInterval: transport.Duration(50 * time.Millisecond), PingTimeout: transport.Duration(100 * time.Millisecond)}
	ended := make(chan struct{})
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(ended)
	}))
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// The preface, empty SETTINGS, and a GET / as HEADERS (HPACK: :method
	// GET, :scheme http, :path / from the static table, :authority "x"),
	// then silence: no ACK of the server's SETTINGS or PINGs.
	frames := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	frames = append(frames, 0, 0, 0, 0x4, 0, 0, 0, 0, 0)
	block := []byte{0x82, 0x86, 0x84, 0x41, 0x01, 'x'}
	frames = append(frames, 0, 0, byte(len(block)), 0x1, 0x5, 0, 0, 0, 1)
	frames = append(frames, block...)
	if _, err := nc.Write(frames); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	case <-time.After(waitFor):
		t.Fatal("the call of a client that answers no ping was not ended")
	}
}

// doBeforeAgeEnds makes a call with do until one reaches the handler, which
// sets started: on a busy machine dialling and the TLS handshake can take
// longer than a short age and its grace, and then the server rightly cuts
// the connection before the call gets through (a lost connection before
// the handler ran). Each try dials a new connection, whose age starts
// afresh; any other failure ends the test.
func doBeforeAgeEnds(t *testing.T, started *atomic.Bool, do func() (*http.Response, error)) *http.Response {
	t.Helper()
	for try := 1; ; try++ {
		res, err := do()
		if err == nil {
			return res
		}
		if started.Load() || !errors.Is(err, transport.ErrConnectionLost) || try == 50 {
			t.Fatalf("try %d: %v", try, err)
		}
	}
}

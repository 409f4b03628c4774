package h3_test

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
	h3 "polyconnect.dev/transport-http3"
)

// The ages below are short so that the tests are quick: connection age is
// time by definition. The outcomes do not depend on scheduling: the tests
// wait for what the age causes within generous bounds.

const waitFor = 20 * time.Second

// TestMaxConnectionAgeReplacesConnection: past its age a connection
// refuses new requests unprocessed, the client sends them again on a new
// connection, and no call fails.
func TestMaxConnectionAgeReplacesConnection(t *testing.T) {
	cfg := serverConfig(t)
	cfg.MaxConnectionAge = transport.Duration(50 * time.Millisecond)
	var conns atomic.Int32
	srv := startServer(t, cfg, http.HandlerFunc(protoHandler), connCounter(&conns))
	c := newClient(t, clientConfig(t))
	deadline := time.Now().Add(waitFor)
	calls := 0
	for conns.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections after %d calls: the age does not replace them", conns.Load(), calls)
		}
		if _, _, err := get(c, srv.URL()); err != nil {
			t.Fatalf("call %d failed: %v", calls, err)
		}
		calls++
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMaxConnectionAgeGrace: a call still running a grace after its
// connection aged is cut off as a lost connection.
func TestMaxConnectionAgeGrace(t *testing.T) {
	cfg := serverConfig(t)
	cfg.MaxConnectionAge = transport.Duration(50 * time.Millisecond)
	cfg.MaxConnectionAgeGrace = transport.Duration(50 * time.Millisecond)
	var started atomic.Bool
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Store(true)
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	c := newClient(t, clientConfig(t))
	// On a busy machine the QUIC handshake can take longer than the age
	// and its grace, and then the server rightly closes the connection
	// before the call gets through. Each try dials a new connection, whose
	// age starts afresh; any other failure ends the test.
	var res *http.Response
	for try := 1; ; try++ {
		req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
		var err error
		if res, err = c.Do(req); err == nil {
			break
		}
		if started.Load() || !errors.Is(err, transport.ErrConnectionLost) || try == 50 {
			t.Fatalf("try %d: %v", try, err)
		}
	}
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
}

// TestMaxConnectionAgeWithoutGrace: with no grace, a call in flight when
// its connection ages finishes; the connection closes after it.
func TestMaxConnectionAgeWithoutGrace(t *testing.T) {
	cfg := serverConfig(t)
	cfg.MaxConnectionAge = transport.Duration(50 * time.Millisecond)
	release := make(chan struct{})
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "done")
	}))
	c := newClient(t, clientConfig(t))
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL(), nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	time.Sleep(150 * time.Millisecond) // past the age and its jitter
	close(release)
	body, err := io.ReadAll(res.Body)
	if err != nil || string(body) != "done" {
		t.Fatalf("body %q, %v", body, err)
	}
}

// TestPingTimeoutFindsDeadPeer: a client that pings a server which stops
// answering closes the connection after PingInterval + PingTimeout.
func TestPingTimeoutFindsDeadPeer(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc := &blackhole{PacketConn: udp}
	cfg := serverConfig(t)
	cfg.Addr = ""
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}), h3.WithPacketConn(pc))
	ccfg := clientConfig(t)
	ccfg.PingInterval = transport.Duration(50 * time.Millisecond)
	ccfg.PingTimeout = transport.Duration(100 * time.Millisecond)
	c := newClient(t, ccfg)
	req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	pc.silent.Store(true) // the server vanishes without a word
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
		t.Fatal("a silent server was not noticed")
	}
}

// blackhole is a UDP socket that, once silent, drops every packet both
// ways, as a server that vanished.
type blackhole struct {
	net.PacketConn
	silent atomic.Bool
}

func (b *blackhole) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := b.PacketConn.ReadFrom(p)
		if err != nil || !b.silent.Load() {
			return n, addr, err
		}
	}
}

func (b *blackhole) WriteTo(p []byte, addr net.Addr) (int, error) {
	if b.silent.Load() {
		return len(p), nil
	}
	return b.PacketConn.WriteTo(p, addr)
}

package h3_test

import (
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

// TestDialNothingListening: a client pointed at a port where nothing
// listens fails at once, refused, as over TCP, instead of waiting out its
// handshake timeout (10 s by default) or its dial timeout.
func TestDialNothingListening(t *testing.T) {
	checkLeaks(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	_ = pc.Close()
	cfg := clientConfig(t)
	cfg.DialTimeout = transport.Duration(time.Minute)
	c := newClient(t, cfg)
	req, err := http.NewRequest(http.MethodGet, "https://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Do(req)
	took := time.Since(start)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v after %v, want connection refused", err, took)
	}
	// Loopback answers at once; the bound only keeps a busy machine from
	// failing the test.
	if took > 5*time.Second {
		t.Errorf("refused after %v", took)
	}
	t.Logf("%v after %v", err, took)
}

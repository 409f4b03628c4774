package h3_test

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"polyconnect.dev/protocol/transport"
	h3 "polyconnect.dev/transport-http3"
)

// A flood of QUIC Initial packets with random connection IDs from one
// source (handshake.go's defence).

// initialFlood sends n datagrams to addr that look like client Initial
// packets, each with a new random Destination Connection ID, and never
// reads what comes back: a server that takes each on starts a handshake
// (its state and goroutines) that can only time out.
func initialFlood(t *testing.T, addr net.Addr, n int) {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, addr.(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pkt := make([]byte, 1200)
	for range n {
		_, _ = rand.Read(pkt)
		pkt[0] = 0xc3                                   // long header, Initial, 4-byte packet number
		binary.BigEndian.PutUint32(pkt[1:], 0x00000001) // QUIC v1
		pkt[5] = 8                                      // DCID length; the DCID is random
		pkt[14] = 8                                     // SCID length
		pkt[23] = 0                                     // no token
		rest := len(pkt) - 26
		binary.BigEndian.PutUint16(pkt[24:], 0x4000|uint16(rest)) // Length, 2-byte varint
		_, _ = conn.Write(pkt)
	}
}

// serverHandshakes counts the server's handshakes in progress: quic-go
// runs one goroutine per handshake in handleNewConn until it ends.
func serverHandshakes() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), "quic-go.(*baseServer).handleNewConn(")
}

// floodAndWatch floods srv with n Initials while sampling the server's
// handshakes in progress and its heap; it returns their peaks (the heap's
// above where it started).
func floodAndWatch(t *testing.T, srv *h3.Server, n int) (peakHandshakes int, peakHeap int64) {
	t.Helper()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapAlloc)
	done := make(chan struct{})
	go func() {
		defer close(done)
		initialFlood(t, srv.Addr(), n)
	}()
	sample := func() {
		peakHandshakes = max(peakHandshakes, serverHandshakes())
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, int64(ms.HeapAlloc)-base)
	}
	for {
		select {
		case <-done:
			sample()
			return
		case <-time.After(20 * time.Millisecond):
			sample()
		}
	}
}

// TestHandshakeFlood: 50,000 Initials with random connection IDs from one
// source once made the server start a handshake for each (28,500
// goroutines and 368 MiB in 5 s) and slowed real clients' calls to a
// second. Past DefaultRetryAbove handshakes in progress the server asks
// for a Retry, which the flood never answers, so the handshakes in progress,
// the goroutines and the memory stay bounded, and a real client, which
// answers the Retry, is served throughout.
func TestHandshakeFlood(t *testing.T) {
	checkLeaks(t)
	srv := startServer(t, serverConfig(t), http.HandlerFunc(protoHandler))
	var calls, failed atomic.Int32
	// A generous handshake timeout: the flood and the race detector share a
	// busy machine with this client; being served slowly is not failing.
	cfg := clientConfig(t)
	cfg.TLSHandshakeTimeout = transport.Duration(time.Minute)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// A new client (and connection) for each call: each goes
		// through the handshake the flood competes for.
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, err := h3.NewClient(cfg)
			if err != nil {
				t.Error(err)
				return
			}
			status, _, err := get(c, srv.URL()+"/")
			c.Close()
			calls.Add(1)
			if err != nil || status != http.StatusOK {
				failed.Add(1)
				t.Errorf("a call during the flood: %d, %v", status, err)
			}
		}
	}()
	peak, heap := floodAndWatch(t, srv, 50000)
	close(stop)
	wg.Wait()
	t.Logf("peak handshakes in progress %d, heap +%d KiB, %d calls during the flood", peak, heap>>10, calls.Load())
	// The threshold, and the real clients' own handshakes.
	if peak > h3.DefaultRetryAbove+16 {
		t.Errorf("%d handshakes in progress at the peak of the flood, want at most about %d", peak, h3.DefaultRetryAbove)
	}
	if heap > 64<<20 {
		t.Errorf("the heap grew by %d MiB during the flood", heap>>20)
	}
	if calls.Load() == 0 {
		t.Error("no call was made during the flood")
	}
}

// TestHandshakeCap: with Retries asked for late, the cap on handshakes in
// progress is what bounds a flood.
func TestHandshakeCap(t *testing.T) {
	checkLeaks(t)
	const max = 40
	srv := startServer(t, serverConfig(t), http.HandlerFunc(protoHandler), h3.WithHandshakeLimits(1<<20, max))
	peak, _ := floodAndWatch(t, srv, 20000)
	if peak > max {
		t.Errorf("%d handshakes in progress, more than the cap %d", peak, max)
	}
	if peak < max/2 {
		t.Errorf("only %d handshakes in progress: the flood did not reach the cap, and proves nothing", peak)
	}
}

// TestManyHandshakesAtOnce: the heaviest honest load on the defence, twice
// as many clients as the Retry threshold connecting at the same moment;
// those past the threshold answer a Retry, and every call succeeds.
func TestManyHandshakesAtOnce(t *testing.T) {
	checkLeaks(t)
	srv := startServer(t, serverConfig(t), http.HandlerFunc(protoHandler))
	const clients = 2 * h3.DefaultRetryAbove
	// All the handshakes of this process at once, under the race detector
	// on a machine busy with other builds, take as long as the CPU they
	// get allows: the defence must not be what fails them, and no
	// wall-clock bound on the whole connection set-up may either (the
	// default DialTimeout, 30 s, did on a machine loaded with twice its
	// cores in busy loops: scripts/busy.sh). So the set-up has none here
	// (a negative DialTimeout); what ends a dead handshake is the server
	// going silent for a minute (TLSHandshakeTimeout, QUIC's handshake idle
	// timeout), which a busy but live server does not.
	cfg := clientConfig(t)
	cfg.DialTimeout = -1
	cfg.TLSHandshakeTimeout = transport.Duration(time.Minute)
	var wg sync.WaitGroup
	var refused atomic.Int32
	start := make(chan struct{})
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := h3.NewClient(cfg)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			<-start
			// quic-go refuses a connection whose handshake completes while
			// its accept queue (32) is full, which happens on a machine
			// too busy to run the accept loop: refused calls go again, as
			// a client's retry policy would send them, a few times.
			for attempt := 1; ; attempt++ {
				status, _, err := get(c, srv.URL()+"/")
				var te *quic.TransportError
				if attempt < 5 && errors.As(err, &te) && te.ErrorCode == quic.ConnectionRefused {
					refused.Add(1)
					continue
				}
				if err != nil || status != http.StatusOK {
					t.Errorf("%d, %v", status, err)
				}
				return
			}
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("%d calls refused and sent again", refused.Load())
}

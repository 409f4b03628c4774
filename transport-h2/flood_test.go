package h2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// The flood budgets (defense.go): what the peer makes the server answer
// has a budget that nothing the peer sends pays back, and what costs
// reading without moving a request is paid back only by real work.

// floodUntilCalm writes frames with send, from a goroutine, until the
// server ends the connection or limit rounds have gone out, while the test
// reads what the server answers; it returns how many frames of each type
// came back before the GOAWAY, which must say ENHANCE_YOUR_CALM.
func floodUntilCalm(t *testing.T, r *rawConn, limit int, send func(fr *http2.Framer, i int) error) map[http2.FrameType]int {
	t.Helper()
	done := make(chan error, 1)
	var wmu sync.Mutex
	go func() {
		fr := http2.NewFramer(r.nc, nil)
		var err error
		for i := 0; i < limit && err == nil; i++ {
			wmu.Lock()
			err = send(fr, i)
			wmu.Unlock()
		}
		done <- err
	}()
	got := make(map[http2.FrameType]int)
	for {
		f, err := r.readFrame()
		if err != nil {
			t.Fatalf("the connection ended without GOAWAY after %v: %v", got, err)
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			if g.ErrCode != http2.ErrCodeEnhanceYourCalm {
				t.Fatalf("GOAWAY %v (%s), want ENHANCE_YOUR_CALM", g.ErrCode, g.DebugData())
			}
			break
		}
		got[f.Header().Type]++
	}
	r.expectClosed()
	<-done
	return got
}

// TestAnswersCannotBePaidBack: a PING, a malformed stream or DATA on a
// closed stream each make the server write something back. Pairing each
// with a useful frame (DATA on an open stream, a good request) once let
// 191,000 PINGs, 440,000 malformed streams and 480,000 resets through; now
// the server answers at most its budget, about a thousand, and says
// ENHANCE_YOUR_CALM.
func TestAnswersCannotBePaidBack(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	})
	const rounds = 20000 // far past the budget: the server must cut first
	cases := map[string]struct {
		setup func(r *rawConn)
		send  func(r *rawConn, fr *http2.Framer, i int) error
		count http2.FrameType // what the server answers the junk with
	}{
		"PING paired with DATA": {
			setup: func(r *rawConn) { r.writeHeaders(1, false, request("POST", "/")...) },
			send: func(r *rawConn, fr *http2.Framer, i int) error {
				if err := fr.WritePing(false, [8]byte{byte(i >> 8), byte(i)}); err != nil {
					return err
				}
				return fr.WriteData(1, false, []byte("x"))
			},
			count: http2.FramePing,
		},
		"empty padded HEADERS paired with DATA (MadeYouReset)": {
			setup: func(r *rawConn) { r.writeHeaders(1, false, request("POST", "/")...) },
			send: func(r *rawConn, fr *http2.Framer, i int) error {
				// Each opens a stream the server must reset as malformed.
				if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 3), EndStream: true, EndHeaders: true, PadLength: 8}); err != nil {
					return err
				}
				return fr.WriteData(1, false, []byte("x"))
			},
			count: http2.FrameRSTStream,
		},
		"DATA on closed streams paired with DATA on an open one": {
			setup: func(r *rawConn) {
				r.writeHeaders(1, true, request("GET", "/")...)
				r.waitResponse(1)
				r.writeHeaders(3, false, request("POST", "/")...)
			},
			send: func(r *rawConn, fr *http2.Framer, i int) error {
				if err := fr.WriteData(1, false, []byte("late")); err != nil {
					return err
				}
				return fr.WriteData(3, false, []byte("x"))
			},
			count: http2.FrameRSTStream,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := startServer(t, serverConfig(t, NameH2C), h)
			r := dialRaw(t, srv)
			if tc.setup != nil {
				tc.setup(r)
			}
			r.quiet = true
			got := floodUntilCalm(t, r, rounds, func(fr *http2.Framer, i int) error { return tc.send(r, fr, i) })
			// The budget, the drain over a generous ten seconds of a slow
			// run, and the few frames that are not answers.
			if n := got[tc.count]; n > answerLimit+100+10*floodDrainPerSecond {
				t.Errorf("the server answered %d frames before it stopped", n)
			}
			stillServes(t, srv)
		})
	}
}

// TestMadeYouReset (CVE-2025-8671): the client makes the server reset its
// streams (here with a zero WINDOW_UPDATE) while their handlers, which
// ignore cancellation, go on running. Reset streams stop counting against
// the client's concurrency limit but their handlers do not: no more than
// MaxConcurrentStreams run, and the connection is closed with
// ENHANCE_YOUR_CALM.
func TestMadeYouReset(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		running.Add(-1)
	})
	cfg := serverConfig(t, NameH2C)
	cfg.MaxConcurrentStreams = 10
	srv := startServer(t, cfg, h)
	r := dialRaw(t, srv)
	r.quiet = true
	floodUntilCalm(t, r, 20000, func(fr *http2.Framer, i int) error {
		id := uint32(2*i + 1)
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.encode(request("GET", "/")...), EndStream: true, EndHeaders: true}); err != nil {
			return err
		}
		// A zero increment is a stream error: the server resets the
		// stream itself.
		return fr.WriteRawFrame(http2.FrameWindowUpdate, 0, id, []byte{0, 0, 0, 0})
	})
	if p := peak.Load(); p > 10 {
		t.Errorf("%d handlers ran at once, more than MaxConcurrentStreams (10)", p)
	}
	close(release)
	stillServes(t, srv)
}

// TestJunkPaidOnlyByWork: frames that carry nothing (PRIORITY, unknown
// types) paired with one-byte DATA frames used to be paid back one for
// one; a byte of DATA now pays back a thousandth of one, so the flood is
// cut.
func TestJunkPaidOnlyByWork(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	for name, junk := range map[string]func(fr *http2.Framer) error{
		"PRIORITY": func(fr *http2.Framer) error {
			return fr.WritePriority(3, http2.PriorityParam{StreamDep: 1, Weight: 10})
		},
		"unknown frame": func(fr *http2.Framer) error { return fr.WriteRawFrame(0x0b, 0, 0, []byte("x")) },
	} {
		t.Run(name, func(t *testing.T) {
			r := dialRaw(t, srv)
			r.writeHeaders(1, false, request("POST", "/")...)
			r.quiet = true
			floodUntilCalm(t, r, 20000, func(fr *http2.Framer, i int) error {
				if err := junk(fr); err != nil {
					return err
				}
				return fr.WriteData(1, false, []byte("x"))
			})
		})
	}
	stillServes(t, srv)
}

// TestSettingsCost: a SETTINGS frame with more entries than any real peer
// sends ends the connection, and a flood of large ones costs the server
// one walk over the open streams each, within the answer budget. 2,700
// INITIAL_WINDOW_SIZE entries a frame over 250 streams once burned 3.9 s
// of CPU in 5 s without being cut.
func TestSettingsCost(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			<-release
		}
	}))
	openStreams := func(r *rawConn) {
		for id := uint32(1); id < 500; id += 2 {
			r.writeHeaders(id, true, request("GET", "/block")...)
		}
	}
	t.Run("too many entries", func(t *testing.T) {
		r := dialRaw(t, srv)
		openStreams(r)
		settings := make([]http2.Setting, 2700)
		for i := range settings {
			settings[i] = http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(65535 + i%2)}
		}
		if err := r.fr.WriteSettings(settings...); err != nil {
			t.Fatal(err)
		}
		r.expectGoAway(http2.ErrCodeEnhanceYourCalm)
	})
	t.Run("flood of full frames", func(t *testing.T) {
		r := dialRaw(t, srv)
		openStreams(r)
		r.quiet = true
		settings := make([]http2.Setting, maxSettingsPerFrame)
		for i := range settings {
			settings[i] = http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(65535 + i%2)}
		}
		start := time.Now()
		got := floodUntilCalm(t, r, 100000, func(fr *http2.Framer, i int) error { return fr.WriteSettings(settings...) })
		if n := got[http2.FrameSettings]; n > answerLimit+200 {
			t.Errorf("the server acknowledged %d SETTINGS frames", n)
		}
		t.Logf("cut after %v", time.Since(start))
	})
	t.Run("the largest value decides overflow", func(t *testing.T) {
		r := dialRaw(t, srv)
		r.writeHeaders(1, true, request("GET", "/block")...)
		r.waitFor("the stream to open", func(f http2.Frame) bool { _, ok := f.(*http2.SettingsFrame); return ok })
		// The stream's window passes 2^31-1 on the way, then comes back.
		_ = r.fr.WriteWindowUpdate(1, 1<<31-1-65535)
		if err := r.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535}); err != nil {
			t.Fatal(err)
		}
		r.expectGoAway(http2.ErrCodeFlowControl)
	})
	stillServes(t, srv)
}

// TestHonestTrafficIsNeverCalmed: the heaviest honest use of one
// connection: thousands of streams, many cancelled by the client in the
// middle of their responses (each leaving resets and window updates racing
// the stream's end), with PINGs from the client now and then, never gets
// ENHANCE_YOUR_CALM.
func TestHonestTrafficIsNeverCalmed(t *testing.T) {
	body := strings.Repeat("r", 64<<10)
	srv, c := pair(t, NameH2C, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for range 4 {
			if _, err := io.WriteString(w, body); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	const calls, parallel = 5000, 100
	var failed atomic.Int32
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i := range calls {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := newRequest(t, "POST", srv.URL()+"/", strings.NewReader(fmt.Sprint("request ", i)))
			resp, err := c.Do(req.WithContext(ctx))
			if err != nil {
				failed.Add(1)
				t.Errorf("call %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			if i%2 == 1 {
				// Cancel once the first bytes are in.
				buf := make([]byte, 1000)
				_, _ = io.ReadFull(resp.Body, buf)
				cancel()
				return
			}
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil || n != int64(4*len(body)) {
				failed.Add(1)
				t.Errorf("call %d: %d bytes, %v", i, n, err)
			}
		}()
		if failed.Load() > 0 {
			break
		}
	}
	wg.Wait()
	// The client's keep-alive PINGs and its calls all went to one
	// connection that is still open.
	c.mu.Lock()
	conns := 0
	for _, p := range c.pools {
		conns += len(p.conns)
	}
	c.mu.Unlock()
	if conns != 1 {
		t.Errorf("%d connections in the pool after the calls, want the one", conns)
	}
	var ge goAwayError
	if _, err := c.Do(newRequest(t, "GET", srv.URL()+"/", nil)); errors.As(err, &ge) {
		t.Errorf("GOAWAY after the calls: %v", err)
	}
}

package h2

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Honest heavy traffic through the defences: no flood budget, memory
// budget or window rule may cut a peer that only moves a lot of data.

// zeroes is a request body of n bytes that cannot be replayed, so the
// client streams it as it reads.
type zeroes struct{ n int64 }

func (z *zeroes) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), z.n))
	clear(p[:k])
	z.n -= int64(k)
	return k, nil
}

func (z *zeroes) Close() error { return nil }

// transferHandler counts an upload (POST /up) and answers with the count,
// or sends n bytes (GET /down?n=N) in writes of 256 KiB.
func transferHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/up":
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
		case "/down":
			n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
			buf := make([]byte, 256<<10)
			for n > 0 {
				k := min(int64(len(buf)), n)
				if _, err := w.Write(buf[:k]); err != nil {
					return
				}
				n -= k
			}
		}
	})
}

// transferSize is how much each direction moves in TestOneWayTransfers:
// 2 GiB, the size at which the connection was once cut (after 60 to 300
// MiB) by bandwidth PINGs counted as a flood. The race detector slows the
// engine about tenfold, so under it the test moves a quarter of that,
// still far past where the cut came.
func transferSize() int64 {
	if raceEnabled {
		return 512 << 20
	}
	return 2 << 30
}

// TestOneWayTransfers: an upload and then a download of gigabytes on one
// connection, window growth on, each direction with one side only sending.
// The receiver's bandwidth PINGs, answered by the sender, are its own work
// and never count against it as a flood.
func TestOneWayTransfers(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			size := transferSize()
			if name == NameH2 {
				size /= 4 // TLS costs the CPU more; the count of PINGs is what matters
			}
			var accepted atomic.Int32
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cfg := serverConfig(t, name)
			cfg.Addr = ""
			srv := startServer(t, cfg, transferHandler(), WithListener(&countingListener{Listener: ln, n: &accepted}))
			c := newClient(t, clientConfig(t, name))

			start := time.Now()
			req := newRequest(t, "POST", srv.URL()+"/up", nil)
			req.Body = &zeroes{n: size}
			resp, got := do(t, c, req)
			if resp.StatusCode != http.StatusOK || got != strconv.FormatInt(size, 10) {
				t.Fatalf("upload: status %d, %q, want %d bytes", resp.StatusCode, got, size)
			}
			t.Logf("upload of %d MiB in %v", size>>20, time.Since(start))

			start = time.Now()
			resp, err = c.Do(newRequest(t, "GET", fmt.Sprintf("%s/down?n=%d", srv.URL(), size), nil))
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if err != nil || n != size {
				t.Fatalf("download: %d bytes of %d, %v", n, size, err)
			}
			t.Logf("download of %d MiB in %v", size>>20, time.Since(start))
			if a := accepted.Load(); a != 1 {
				t.Errorf("the transfers used %d connections, want 1", a)
			}
		})
	}
}

// bandwidthPinger plays the receiving side of a transfer the way grpc-go
// and this engine do when they measure bandwidth: a PING as DATA arrives
// while none is outstanding, the next once it is answered, and the window
// back for every frame. It reads from fr until the stream ends and returns
// the DATA bytes and the PINGs it sent; a GOAWAY is returned as an error.
func bandwidthPinger(fr *http2.Framer, stream uint32) (data int64, pings int, err error) {
	outstanding := false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return data, pings, err
		}
		switch f := f.(type) {
		case *http2.DataFrame:
			if f.StreamID != stream {
				continue
			}
			n := len(f.Data())
			data += int64(n)
			if f.StreamEnded() {
				return data, pings, nil
			}
			if n > 0 {
				_ = fr.WriteWindowUpdate(0, uint32(n))
				_ = fr.WriteWindowUpdate(stream, uint32(n))
			}
			if !outstanding {
				outstanding = true
				pings++
				if err := fr.WritePing(false, [8]byte{'b', 'w', byte(pings >> 8), byte(pings)}); err != nil {
					return data, pings, err
				}
			}
		case *http2.PingFrame:
			if f.IsAck() {
				outstanding = false
			} else {
				_ = fr.WritePing(true, f.Data)
			}
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.GoAwayFrame:
			return data, pings, fmt.Errorf("GOAWAY %v: %s", f.ErrCode, f.DebugData())
		case *http2.RSTStreamFrame:
			return data, pings, fmt.Errorf("RST_STREAM %v", f.ErrCode)
		}
	}
}

// pingedTransferSize is how much the bandwidth-PING tests move: enough for
// several times the answer budget's worth of PINGs.
const pingedTransferSize = 256 << 20

// TestBandwidthPingsAreFree: a receiver that measures bandwidth with a
// PING per round trip while data flows sends the sender thousands of
// PINGs, each answering DATA the sender wrote: the sender never counts
// them as a flood, whether it is the server (a download) or the client
// (an upload). Before, both cut the connection after about a thousand.
func TestBandwidthPingsAreFree(t *testing.T) {
	t.Run("server sends", func(t *testing.T) {
		srv := startServer(t, serverConfig(t, NameH2C), transferHandler())
		r := dialRaw(t, srv, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 32 << 10})
		r.writeHeaders(1, true, request("GET", fmt.Sprintf("/down?n=%d", pingedTransferSize))...)
		_ = r.nc.SetReadDeadline(time.Now().Add(5 * waitTimeout))
		n, pings, err := bandwidthPinger(r.fr, 1)
		if err != nil || n != pingedTransferSize {
			t.Fatalf("download: %d of %d bytes after %d PINGs: %v", n, pingedTransferSize, pings, err)
		}
		if pings < 2*answerLimit {
			t.Fatalf("only %d PINGs went out: the test proves nothing", pings)
		}
		t.Logf("%d PINGs", pings)
	})
	t.Run("client sends", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		type result struct {
			n     int64
			pings int
			err   error
		}
		done := make(chan result, 1)
		go func() {
			nc, err := ln.Accept()
			if err != nil {
				done <- result{err: err}
				return
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(5 * waitTimeout))
			preface := make([]byte, len(http2.ClientPreface))
			if _, err := io.ReadFull(nc, preface); err != nil {
				done <- result{err: err}
				return
			}
			fr := http2.NewFramer(nc, nc)
			fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
			_ = fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 32 << 10})
			var res result
			res.n, res.pings, res.err = bandwidthPinger(fr, 1)
			var hb bytes.Buffer
			enc := hpack.NewEncoder(&hb)
			_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
			done <- res
			_, _ = io.Copy(io.Discard, nc) // until the client hangs up
		}()
		c := newClient(t, clientConfig(t, NameH2C))
		req := newRequest(t, "POST", "http://"+ln.Addr().String()+"/up", nil)
		req.Body = &zeroes{n: pingedTransferSize}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		_ = resp.Body.Close()
		res := recv(t, done, "the server's count")
		if res.err != nil || res.n != pingedTransferSize {
			t.Fatalf("upload: %d of %d bytes after %d PINGs: %v", res.n, pingedTransferSize, res.pings, res.err)
		}
		if res.pings < 2*answerLimit {
			t.Fatalf("only %d PINGs went out: the test proves nothing", res.pings)
		}
		t.Logf("%d PINGs", res.pings)
		c.CloseIdleConnections()
	})
}

package h2

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// What one connection can make the server hold, whatever its client does.

// windowedSender is a hand-driven client that sends DATA on its streams as
// fast as the server's windows allow, and keeps the server's bandwidth
// estimate running by answering its PINGs: the most a client can make a
// server hold for handlers that do not read.
type windowedSender struct {
	r       *rawConn
	conn    int64            // connection window
	initial int64            // SETTINGS_INITIAL_WINDOW_SIZE
	streams map[uint32]int64 // stream windows
	sent    int64
}

func newWindowedSender(r *rawConn) *windowedSender {
	return &windowedSender{r: r, conn: 65535, initial: 65535, streams: make(map[uint32]int64)}
}

// open starts a request stream that will carry a body.
func (w *windowedSender) open(id uint32, path string) {
	w.r.writeHeaders(id, false, request("POST", path)...)
	w.streams[id] = w.initial
}

// event is what the sender needs of a frame from the server, copied out
// of it: the Framer reuses its frames.
type event struct {
	settings  bool
	initial   int64 // SETTINGS_INITIAL_WINDOW_SIZE, -1 if not in the frame
	window    bool
	streamID  uint32
	increment int64
	ping      bool
	pingData  [8]byte
}

func eventOf(f http2.Frame) event {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return event{}
		}
		e := event{settings: true, initial: -1}
		if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
			e.initial = int64(v)
		}
		return e
	case *http2.WindowUpdateFrame:
		return event{window: true, streamID: f.StreamID, increment: int64(f.Increment)}
	case *http2.PingFrame:
		if !f.IsAck() {
			return event{ping: true, pingData: f.Data}
		}
	}
	return event{}
}

// apply takes a frame from the server into account.
func (w *windowedSender) apply(e event) {
	switch {
	case e.settings:
		if e.initial >= 0 {
			for id := range w.streams {
				w.streams[id] += e.initial - w.initial
			}
			w.initial = e.initial
		}
		_ = w.r.fr.WriteSettingsAck()
	case e.window:
		if e.streamID == 0 {
			w.conn += e.increment
		} else if _, ok := w.streams[e.streamID]; ok {
			w.streams[e.streamID] += e.increment
		}
	case e.ping:
		_ = w.r.fr.WritePing(true, e.pingData)
	}
}

// fill sends until the windows are shut and the server has said nothing
// for quiet, or until limit bytes are out. It returns what was sent.
func (w *windowedSender) fill(t *testing.T, quiet time.Duration, limit int64) int64 {
	t.Helper()
	chunk := make([]byte, 16<<10)
	frames := make(chan event)
	readErr := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	stop := make(chan struct{})
	go func() {
		defer wg.Done()
		for {
			_ = w.r.nc.SetReadDeadline(time.Now().Add(waitTimeout))
			f, err := w.r.fr.ReadFrame()
			if err != nil {
				readErr <- err
				return
			}
			select {
			case frames <- eventOf(f):
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		_ = w.r.nc.SetReadDeadline(time.Now())
		wg.Wait()
		_ = w.r.nc.SetReadDeadline(time.Time{})
	}()
	for w.sent < limit {
		progress := false
		for id, win := range w.streams {
			n := min(int64(len(chunk)), win, w.conn)
			if n <= 0 {
				continue
			}
			if err := w.r.fr.WriteData(id, false, chunk[:n]); err != nil {
				t.Fatalf("write DATA: %v", err)
			}
			w.streams[id] -= n
			w.conn -= n
			w.sent += n
			progress = true
		}
		wait := time.Duration(0)
		if !progress {
			wait = quiet
		}
		timer := time.NewTimer(wait)
		select {
		case e := <-frames:
			w.apply(e)
		case err := <-readErr:
			t.Fatalf("read: %v", err)
		case <-timer.C:
			if !progress {
				return w.sent
			}
		}
		timer.Stop()
	}
	return w.sent
}

// serverBuffered returns what srv's connections hold unread.
func serverBuffered(srv *Server) int64 {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var n int64
	for sc := range srv.conns {
		if c := sc.getConnNoStop(); c != nil {
			n += c.bufferedBytes()
		}
	}
	return n
}

// TestReceiveMemoryBounded: a client with a hundred streams whose handlers
// do not read sends all its windows allow, answering the server's
// bandwidth PINGs. Windows once grew for every stream (to 8 MiB) and the
// connection window went back as data arrived, so one connection held
// 319 MiB and counting; now unread streams keep their initial window and
// the connection holds at most its buffer limit.
func TestReceiveMemoryBounded(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	defer releaseAll()
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		buf := make([]byte, 64<<10)
		for {
			if _, err := r.Body.Read(buf); err != nil {
				return
			}
		}
	}))
	r := dialRaw(t, srv)
	w := newWindowedSender(r)
	const streams = 100 // their initial windows add up to 25 MiB
	for i := range streams {
		w.open(uint32(2*i+1), "/")
	}
	limit := DefaultConnBufferLimit + int64(streams)*defaultStreamWindow
	sent := w.fill(t, 300*time.Millisecond, limit)
	t.Logf("the server took %d KiB, holds %d KiB", sent>>10, serverBuffered(srv)>>10)
	if sent > DefaultConnBufferLimit {
		t.Errorf("the server let the client send %d bytes to handlers that do not read, more than its buffer limit %d", sent, DefaultConnBufferLimit)
	}
	if held := serverBuffered(srv); held > DefaultConnBufferLimit {
		t.Errorf("the server holds %d bytes", held)
	}
	for id, win := range w.streams {
		if win > 0 && w.conn > 0 {
			t.Errorf("stream %d still has %d bytes of window", id, win)
		}
	}
	// Once the handlers read, the windows open again.
	releaseAll()
	eventually(t, "the handlers to read what the server held", func() bool { return serverBuffered(srv) == 0 })
	// The window updates are on their way: a generous quiet period, since
	// a busy machine may be slow to deliver them.
	more := w.fill(t, 2*time.Second, sent+4<<20) - sent
	if more <= 0 {
		t.Error("no window came back once the handlers read")
	}
}

// TestOneByteDataFlood: DATA frames of one byte (ten on the wire) cost the
// server no memory beyond the bytes themselves: the stream's window
// bounds them, with no buffer or record per frame.
func TestOneByteDataFlood(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := startServer(t, serverConfig(t, NameH2C), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			<-release
		}
	}))
	r := dialRaw(t, srv)
	r.writeHeaders(1, false, request("POST", "/block")...)
	one := []byte{'x'}
	// The whole window in one-byte frames, and one more byte.
	for range defaultStreamWindow + 1 {
		if err := r.fr.WriteData(1, false, one); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	// Past the window the stream is reset (FLOW_CONTROL_ERROR); what it
	// held never passed the window.
	if code := r.waitRST(1); code != http2.ErrCodeFlowControl {
		t.Errorf("RST_STREAM %v, want FLOW_CONTROL_ERROR", code)
	}
	if held := serverBuffered(srv); held > defaultStreamWindow {
		t.Errorf("the server holds %d bytes for one stream", held)
	}
	stillServes(t, srv)
}

// serverHeaderBytes returns what the request headers of srv's streams in
// flight count against their connections' budgets.
func serverHeaderBytes(srv *Server) int64 {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var n int64
	for sc := range srv.conns {
		if c := sc.getConnNoStop(); c != nil {
			c.mu.Lock()
			n += sc.headerBytes
			c.mu.Unlock()
		}
	}
	return n
}

// TestHeaderMemoryBounded: 250 streams, each with 900 KiB of headers
// (within the limit of a server configured for 1 MiB, the largest header
// limit a user is likely to set; the default is 64 KiB) that cost the client a few hundred bytes each,
// HPACK referring to one table entry over and over, and handlers that hold
// on. The server once kept all of them, 275 MiB of RSS for one
// connection; now the headers of the requests in flight stay within the
// connection's budget and the requests beyond it get 431.
func TestHeaderMemoryBounded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	cfg := serverConfig(t, NameH2C)
	cfg.MaxHeaderBytes = 1 << 20
	srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release
	}))
	r := dialRaw(t, srv)
	big := strings.Repeat("h", 4000)
	fields := request("GET", "/")
	for range 225 {
		fields = append(fields, "x-big", big)
	}
	for id := uint32(1); id < 500; id += 2 {
		r.writeHeaders(id, true, fields...)
	}
	statuses := map[string]int{}
	for n := 0; n < 250; n++ {
		f := r.waitFor("response headers", func(f http2.Frame) bool { _, ok := f.(*http2.MetaHeadersFrame); return ok })
		statuses[f.(*http2.MetaHeadersFrame).PseudoValue("status")]++
	}
	held := serverHeaderBytes(srv)
	t.Logf("statuses %v, headers held %d KiB", statuses, held>>10)
	if held > srv.headerBudget {
		t.Errorf("the connection holds %d bytes of request headers, more than its budget %d", held, srv.headerBudget)
	}
	if int64(statuses["200"])*225*4000 > srv.headerBudget {
		t.Errorf("%d requests with 900 KiB of headers each reached their handlers at once", statuses["200"])
	}
	if statuses["200"] == 0 || statuses["200"]+statuses["431"] != 250 {
		t.Errorf("statuses %v, want 200s up to the budget and 431s after", statuses)
	}
}

// TestHeavyHeadersWithinBudget: the heaviest honest use of headers, the
// default 250 streams at once, each with request headers just under the
// server's per-request limit (DefaultMaxHeaderBytes, 64 KiB: large tokens
// and cookies), all reach their handlers.
func TestHeavyHeadersWithinBudget(t *testing.T) {
	var wg sync.WaitGroup
	var inside sync.WaitGroup
	inside.Add(DefaultMaxConcurrentStreams)
	srv, c := pair(t, NameH2C, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inside.Done()
		inside.Wait() // every stream is in flight at once
		_, _ = io.WriteString(w, r.Header.Get("X-Token-0")[:1])
	}))
	for i := range DefaultMaxConcurrentStreams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := newRequest(t, "GET", srv.URL()+"/", nil)
			// As HTTP/2 counts a field: name, value and 32 bytes; 2 KiB
			// left for the pseudo-headers and the client's own fields.
			tokens := (DefaultMaxHeaderBytes - 2048) / (len("x-token-00") + 4000 + 32)
			for j := range tokens {
				req.Header.Set(fmt.Sprintf("X-Token-%d", j), strings.Repeat(string(rune('a'+i%26)), 4000))
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Error(err)
				inside.Done()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(b) != string(rune('a'+i%26)) {
				t.Errorf("request %d: %d %q", i, resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
}

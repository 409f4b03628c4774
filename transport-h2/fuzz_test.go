package h2

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"polyconnect.dev/protocol/transport"
)

// Fuzz targets for frame and header handling. Each runs the real server or
// client over an in-memory pipe; a panic, a hang or a connection left in a
// bad state fails them. CI runs each briefly (go test -fuzz with a short
// -fuzztime); the seed corpora are in testdata/fuzz.

// fuzzMarker is the PING payload that proves the server has read
// everything sent before it.
var fuzzMarker = [8]byte{'f', 'u', 'z', 'z', 'e', 'n', 'd', '!'}

// pipeSession is a server connection over net.Pipe with a frame reader on
// the client side.
type pipeSession struct {
	t      *testing.T
	srv    *Server
	cl     net.Conn
	sc     *serverConn
	frames chan http2.Frame
	dec    *hpack.Decoder
}

func newPipeSession(t *testing.T, h http.Handler) *pipeSession {
	srv, err := NewServer(transport.Config{Name: NameH2C, Addr: "127.0.0.1:0"}, h, WithFlowControlTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	cl, sv := net.Pipe()
	p := &pipeSession{t: t, srv: srv, cl: cl, sc: srv.newServerConn(sv), frames: make(chan http2.Frame, 64)}
	go p.sc.serve()
	go func() {
		defer close(p.frames)
		fr := http2.NewFramer(nil, cl)
		fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			// Frames are only valid until the next read: keep what the
			// targets look at.
			switch f := f.(type) {
			case *http2.PingFrame:
				c := *f
				p.frames <- &c
			case *http2.GoAwayFrame:
				p.frames <- &http2.GoAwayFrame{FrameHeader: f.FrameHeader, LastStreamID: f.LastStreamID, ErrCode: f.ErrCode}
			case *http2.MetaHeadersFrame:
				p.frames <- f
			case *http2.RSTStreamFrame:
				c := *f
				p.frames <- &c
			}
		}
	}()
	return p
}

// send writes bytes to the server, giving up if it has stopped reading.
func (p *pipeSession) send(b []byte) bool {
	_ = p.cl.SetWriteDeadline(time.Now().Add(waitTimeout))
	_, err := p.cl.Write(b)
	return err == nil
}

// sync sends a marked PING and waits for its answer. It returns false if
// the server closed the connection instead (after a GOAWAY or not); it
// fails the test if neither happens in time.
func (p *pipeSession) sync() (alive bool, frames []http2.Frame) {
	var ping bytes.Buffer
	_ = http2.NewFramer(&ping, nil).WritePing(false, fuzzMarker)
	go p.send(ping.Bytes())
	deadline := time.After(waitTimeout)
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				return false, frames
			}
			if pf, isPing := f.(*http2.PingFrame); isPing && pf.IsAck() && pf.Data == fuzzMarker {
				return true, frames
			}
			frames = append(frames, f)
			if g, isGoAway := f.(*http2.GoAwayFrame); isGoAway && g.ErrCode != http2.ErrCodeNo {
				// A connection error: the server is closing.
				return false, frames
			}
		case <-deadline:
			p.t.Fatal("the server neither answered nor closed the connection")
		}
	}
}

// close ends the session and waits for the server to let go of it.
func (p *pipeSession) close() {
	_ = p.cl.Close()
	select {
	case <-p.sc.done:
	case <-time.After(waitTimeout):
		p.t.Fatal("the server connection did not end")
	}
	for range p.frames {
	}
	_ = p.srv.Close()
}

// completeFrames pads a truncated last frame with zeros to the length its
// header declares, so that what follows the input starts on a frame
// boundary. Frames longer than the default maximum are left alone: the
// server refuses them on their header.
func completeFrames(in []byte) []byte {
	rest := in
	for len(rest) >= 9 {
		n := int(rest[0])<<16 | int(rest[1])<<8 | int(rest[2])
		if n > 16<<10 {
			return in
		}
		if len(rest) < 9+n {
			return append(bytes.Clone(in), make([]byte, 9+n-len(rest))...)
		}
		rest = rest[9+n:]
	}
	if len(rest) > 0 {
		// A partial frame header: finish it as an empty unknown frame.
		header := append(bytes.Clone(rest), make([]byte, 9-len(rest))...)
		n := int(header[0])<<16 | int(header[1])<<8 | int(header[2])
		if n > 16<<10 {
			return in
		}
		return append(append(bytes.Clone(in), header[len(rest):]...), make([]byte, n)...)
	}
	return in
}

func fuzzHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Read", http.StatusText(int(n%600)))
		_, _ = w.Write([]byte("ok"))
	})
}

// frameBytes builds frames for the seeds.
func frameBytes(build func(fr *http2.Framer, enc func(kv ...string) []byte)) []byte {
	var buf, hbuf bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	fr.AllowIllegalWrites = true
	e := hpack.NewEncoder(&hbuf)
	enc := func(kv ...string) []byte {
		hbuf.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			_ = e.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return bytes.Clone(hbuf.Bytes())
	}
	build(fr, enc)
	return buf.Bytes()
}

func serverFrameSeeds() [][]byte {
	get := request("GET", "/")
	post := request("POST", "/upload", "content-length", "5")
	return [][]byte{
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(get...), EndStream: true, EndHeaders: true})
		}),
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(post...), EndHeaders: true})
			_ = fr.WriteData(1, false, []byte("he"))
			_ = fr.WriteDataPadded(1, true, []byte("llo"), []byte{0, 0, 0})
		}),
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			b := enc(append(get, "x-long", "0123456789abcdef0123456789abcdef")...)
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b[:10], Priority: http2.PriorityParam{StreamDep: 1, Weight: 7}})
			_ = fr.WriteContinuation(3, false, b[10:20])
			_ = fr.WriteContinuation(3, true, b[20:])
		}),
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1}, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20})
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(get...), EndStream: true, EndHeaders: true})
			_ = fr.WriteWindowUpdate(1, 100)
			_ = fr.WriteWindowUpdate(0, 1000)
		}),
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: enc(request("POST", "/", "te", "trailers")...), EndHeaders: true})
			_ = fr.WriteData(5, false, []byte("body"))
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: enc("x-trailer", "v"), EndStream: true, EndHeaders: true})
			_ = fr.WriteRSTStream(5, http2.ErrCodeCancel)
		}),
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WritePriority(7, http2.PriorityParam{StreamDep: 9, Exclusive: true, Weight: 200})
			_ = fr.WritePing(false, [8]byte{1, 2, 3})
			_ = fr.WriteRawFrame(0xfa, 0x3, 0, []byte("extension"))
			_ = fr.WriteGoAway(0, http2.ErrCodeNo, []byte("bye"))
		}),
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: append(enc(get...), 0x3f, 0xe1, 0x1f), EndStream: true, EndHeaders: true})
		}),
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":method", "GET", ":path", "/", "X-Upper", "v"), EndStream: true, EndHeaders: true})
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 2, BlockFragment: enc(get...), EndStream: true, EndHeaders: true})
		}),
		// SETTINGS with repeated INITIAL_WINDOW_SIZE entries over an open
		// stream (one walk, the largest deciding overflow), and one with
		// more entries than allowed.
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(post...), EndHeaders: true})
			_ = fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 30}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535})
			settings := make([]http2.Setting, 101)
			for i := range settings {
				settings[i] = http2.Setting{ID: http2.SettingMaxFrameSize, Val: 16384}
			}
			_ = fr.WriteSettings(settings...)
		}),
		// Frame types HTTP/2 does not define, and PRIORITY_UPDATE, which
		// the Framer parses.
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			for typ := 0x0a; typ <= 0x0f; typ++ {
				_ = fr.WriteRawFrame(http2.FrameType(typ), 0xff, uint32(typ%2), []byte{byte(typ)})
			}
			_ = fr.WriteRawFrame(0x10, 0, 0, append([]byte{0, 0, 0, 1}, "u=1"...))
			_ = fr.WriteRawFrame(0x10, 0, 3, []byte{0})
		}),
		// What the answer budget counts: a zero WINDOW_UPDATE on an open
		// stream, an empty padded HEADERS, DATA on a closed stream, PINGs
		// between one-byte DATA frames.
		frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(post...), EndHeaders: true})
			_ = fr.WriteRawFrame(http2.FrameWindowUpdate, 0, 1, []byte{0, 0, 0, 0})
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndStream: true, EndHeaders: true, PadLength: 8})
			_ = fr.WriteData(1, false, []byte("x"))
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: enc(get...), EndStream: true, EndHeaders: true})
			for i := range 4 {
				_ = fr.WritePing(false, [8]byte{byte(i)})
				_ = fr.WriteData(5, false, []byte("y"))
			}
		}),
	}
}

// FuzzServerFrames sends arbitrary bytes to a server after a valid preface
// and SETTINGS. Whatever they are, the server must not panic, must either
// answer a PING sent after them or close the connection, and must let go of
// the connection when the client does.
func FuzzServerFrames(f *testing.F) {
	for _, seed := range serverFrameSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p := newPipeSession(t, fuzzHandler())
		defer p.close()
		var start bytes.Buffer
		start.WriteString(http2.ClientPreface)
		_ = http2.NewFramer(&start, nil).WriteSettings()
		if !p.send(start.Bytes()) || !p.send(completeFrames(in)) {
			return
		}
		p.sync()
	})
}

// FuzzRequestHeaders sends an arbitrary header block as a request. The
// server must answer it (with a response or a stream error) or end the
// connection with GOAWAY; if the connection lives on, its HPACK state must
// still decode the next request, which must get a response.
func FuzzRequestHeaders(f *testing.F) {
	var hbuf bytes.Buffer
	e := hpack.NewEncoder(&hbuf)
	for _, kv := range [][]string{
		request("GET", "/"),
		request("POST", "/x?y=z", "content-type", "application/grpc", "te", "trailers", "grpc-timeout", "1S"),
		request("GET", "/", "cookie", "a=b", "cookie", "c=d"),
		{":method", "CONNECT", ":authority", "example.com:443"},
		{":path", "/", ":method", "GET"},
	} {
		hbuf.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			_ = e.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		f.Add(bytes.Clone(hbuf.Bytes()))
	}
	f.Add([]byte{0x82, 0x86, 0x84, 0x41, 0x8a, 0x08, 0x9d, 0x5c, 0x0b, 0x81, 0x70, 0xdc, 0x78, 0x0f, 0x03})
	f.Add([]byte{0x3f, 0xe1, 0x1f, 0x82})
	f.Fuzz(func(t *testing.T, block []byte) {
		if len(block) > 16<<10 {
			return
		}
		p := newPipeSession(t, fuzzHandler())
		defer p.close()
		in := frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true})
		})
		var start bytes.Buffer
		start.WriteString(http2.ClientPreface)
		_ = http2.NewFramer(&start, nil).WriteSettings()
		if !p.send(start.Bytes()) || !p.send(in) {
			return
		}
		alive, _ := p.sync()
		if !alive {
			return
		}
		// The fuzzed block went into the server's HPACK decoder, but not
		// into an encoder here, so the dynamic table may differ: the next
		// request uses only static-table references and literals without
		// indexing, which mean the same whatever the table holds.
		next := []byte{0x82, 0x86, 0x84} // :method GET, :scheme http, :path /
		next = append(next, 0x01, 0x04)  // :authority, literal without indexing, 4 bytes
		next = append(next, "test"...)
		var req bytes.Buffer
		_ = http2.NewFramer(&req, nil).WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: next, EndStream: true, EndHeaders: true})
		if !p.send(req.Bytes()) {
			return
		}
		deadline := time.After(waitTimeout)
		for {
			select {
			case f, ok := <-p.frames:
				switch f := f.(type) {
				case nil:
					if !ok {
						return // closed: a table-size update in the block can make the next one fail
					}
				case *http2.MetaHeadersFrame:
					if f.StreamID == 3 {
						if st := f.PseudoValue("status"); st != "200" {
							t.Fatalf("the next request got status %q", st)
						}
						return
					}
				case *http2.RSTStreamFrame:
					if f.StreamID == 3 {
						t.Fatalf("the next request was reset: %v", f.ErrCode)
					}
				case *http2.GoAwayFrame:
					if f.ErrCode != http2.ErrCodeNo {
						return
					}
				}
			case <-deadline:
				t.Fatal("the connection lives on but the next request got no response")
			}
		}
	})
}

// FuzzClientFrames has a client read arbitrary bytes from its server after
// a valid SETTINGS frame. Do must return, with a response or an error, and
// reading the body must end.
func FuzzClientFrames(f *testing.F) {
	f.Add(frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":status", "200", "content-type", "text/plain"), EndHeaders: true})
		_ = fr.WriteData(1, false, []byte("hello"))
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc("grpc-status", "0"), EndStream: true, EndHeaders: true})
	}))
	f.Add(frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":status", "103"), EndHeaders: true})
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":status", "200", "content-length", "2"), EndHeaders: true})
		_ = fr.WriteData(1, true, []byte("ok"))
	}))
	f.Add(frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
		_ = fr.WriteRSTStream(1, http2.ErrCodeRefusedStream)
		_ = fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	}))
	f.Add(frameBytes(func(fr *http2.Framer, enc func(...string) []byte) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":status", "200"), EndHeaders: true})
		_ = fr.WriteWindowUpdate(1, 1)
		_ = fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 0})
		_ = fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: enc(":method", "GET"), EndHeaders: true})
	}))
	f.Fuzz(func(t *testing.T, in []byte) {
		cl, sv := net.Pipe()
		serverDone := make(chan struct{})
		go func() {
			defer close(serverDone)
			defer sv.Close()
			pre := make([]byte, len(http2.ClientPreface))
			if _, err := io.ReadFull(sv, pre); err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, sv) }()
			var out bytes.Buffer
			_ = http2.NewFramer(&out, nil).WriteSettings()
			out.Write(in)
			_ = sv.SetWriteDeadline(time.Now().Add(waitTimeout))
			_, _ = sv.Write(out.Bytes())
			// Then hang up, as a server that is done.
		}()
		var dialed atomic.Bool
		c, err := NewClient(transport.Config{Name: NameH2C}, WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dialed.Swap(true) {
				return nil, errors.New("one connection per input")
			}
			return cl, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest("POST", "http://fuzz.test/", bytes.NewReader([]byte("request")))
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := c.Do(req.WithContext(ctx))
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Fatal("the call neither ended nor failed")
		}
		<-serverDone
		_ = cl.Close()
	})
}

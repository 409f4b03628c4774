package h2

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rawConn is a hand-driven HTTP/2 client for tests that speak to the server
// frame by frame, well or badly, over a real socket.
type rawConn struct {
	t      testing.TB
	quiet  bool // waitFor does not answer PINGs and SETTINGS
	nc     net.Conn
	fr     *http2.Framer
	enc    *hpack.Encoder
	encBuf bytes.Buffer
}

// dialRaw connects to srv (TLS with ALPN h2 for h2-rpc) and sends the
// preface and SETTINGS, without waiting for the server's.
func dialRaw(t testing.TB, srv *Server, settings ...http2.Setting) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if srv.tls != nil {
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		nc = tc
	}
	t.Cleanup(func() { _ = nc.Close() })
	r := &rawConn{t: t, nc: nc}
	r.fr = http2.NewFramer(nc, nc)
	r.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	r.fr.MaxHeaderListSize = 16 << 20
	r.enc = hpack.NewEncoder(&r.encBuf)
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := r.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	return r
}

// encode HPACK-encodes name/value pairs.
func (r *rawConn) encode(kv ...string) []byte {
	r.encBuf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = r.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(r.encBuf.Bytes())
}

// request returns the header pairs of a request for path.
func request(method, path string, extra ...string) []string {
	return append([]string{":method", method, ":scheme", "http", ":authority", "test", ":path", path}, extra...)
}

// writeHeaders sends a complete header block in one HEADERS frame.
func (r *rawConn) writeHeaders(id uint32, end bool, kv ...string) {
	r.t.Helper()
	if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.encode(kv...), EndStream: end, EndHeaders: true}); err != nil {
		r.t.Fatal(err)
	}
}

// readFrame reads the next frame, waiting up to waitTimeout.
func (r *rawConn) readFrame() (http2.Frame, error) {
	_ = r.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	return r.fr.ReadFrame()
}

// waitFor reads frames until one satisfies match and returns it; it fails
// the test if the connection ends first or nothing comes in time.
func (r *rawConn) waitFor(what string, match func(http2.Frame) bool) http2.Frame {
	r.t.Helper()
	for {
		f, err := r.readFrame()
		if err != nil {
			r.t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(f) {
			return f
		}
		if r.quiet {
			continue
		}
		// Answer PINGs and SETTINGS as a live client does.
		switch f := f.(type) {
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = r.fr.WritePing(true, f.Data)
			}
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = r.fr.WriteSettingsAck()
			}
		}
	}
}

// waitGoAway waits for a GOAWAY and returns it.
func (r *rawConn) waitGoAway() *http2.GoAwayFrame {
	r.t.Helper()
	return r.waitFor("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }).(*http2.GoAwayFrame)
}

// expectGoAway waits for a GOAWAY with code, then for the server to close
// the connection.
func (r *rawConn) expectGoAway(code http2.ErrCode) {
	r.t.Helper()
	g := r.waitGoAway()
	if g.ErrCode != code {
		r.t.Fatalf("GOAWAY %v (%s), want %v", g.ErrCode, g.DebugData(), code)
	}
	r.expectClosed()
}

// expectClosed reads until the server closes the connection; frames on the
// way are ignored. It fails if the connection stays open.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	for {
		_, err := r.readFrame()
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			r.t.Fatal("the server did not close the connection")
		}
		return
	}
}

// waitRST waits for a RST_STREAM on stream id and returns its code.
func (r *rawConn) waitRST(id uint32) http2.ErrCode {
	r.t.Helper()
	f := r.waitFor("RST_STREAM", func(f http2.Frame) bool {
		rst, ok := f.(*http2.RSTStreamFrame)
		return ok && rst.StreamID == id
	})
	return f.(*http2.RSTStreamFrame).ErrCode
}

// waitResponse waits for the response headers of stream id and returns
// the :status.
func (r *rawConn) waitResponse(id uint32) string {
	r.t.Helper()
	f := r.waitFor("response headers", func(f http2.Frame) bool {
		h, ok := f.(*http2.MetaHeadersFrame)
		return ok && h.StreamID == id
	})
	return f.(*http2.MetaHeadersFrame).PseudoValue("status")
}

package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/qpack"
	"github.com/quic-go/quic-go"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/types/known/timestamppb"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/selector"
	pingv1 "polyconnect.dev/interop/internal/gen/polyconnect/interop/ping/v1"
	"polyconnect.dev/interop/internal/gen/polyconnect/interop/ping/v1/pingv1rpc"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
	_ "polyconnect.dev/transport-http3" // registers h3
	_ "polyconnect.dev/transport-nethttp"
)

// Newer public attacks on HTTP/2 servers, against every transport
// polyconnect serves on, each from a hand-driven client over a real
// socket: request paths without a leading slash (CVE-2026-33186 let them
// past grpc-go's path-based authorization), frame types the server does not
// know (CVE-2026-27141 made x/net's server panic on 0x0a-0x0f), and floods
// of one-byte DATA frames.

// attackTransports are the transports the path test runs on, and
// h2Transports the HTTP/2 ones.
var (
	attackTransports = []string{transport.NameHTTP1, transport.NameH2C, transport.NameH2, h2.NameH2C, h2.NameH2, transport.NameH3}
	h2Transports     = []string{transport.NameH2C, transport.NameH2, h2.NameH2C, h2.NameH2}
)

// startAttacked serves h on the named transport.
func startAttacked(t *testing.T, name string, h http.Handler) transport.Server {
	t.Helper()
	cfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
	switch name {
	case transport.NameH2, h2.NameH2:
		cfg.TLS = testPKI(t).ServerTLS()
	case transport.NameH3:
		serverTLS, _ := h3TLS(t)
		cfg.TLSConfig = serverTLS
	}
	srv, err := transport.NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// rawH2 is a hand-driven HTTP/2 client.
type rawH2 struct {
	nc  net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
}

// dialRawH2 opens an HTTP/2 connection to srv (TLS with ALPN h2 for the
// TLS transports) and sends the preface and an empty SETTINGS frame.
func dialRawH2(t *testing.T, name string, srv transport.Server) *rawH2 {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if name == transport.NameH2 || name == h2.NameH2 {
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		nc = tc
	}
	t.Cleanup(func() { _ = nc.Close() })
	r := &rawH2{nc: nc, fr: http2.NewFramer(nc, nc)}
	r.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	r.enc = hpack.NewEncoder(&r.buf)
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := r.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return r
}

// headers sends a header block in one HEADERS frame.
func (r *rawH2) headers(t *testing.T, id uint32, end bool, kv ...string) {
	t.Helper()
	r.buf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = r.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.buf.Bytes(), EndStream: end, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
}

// outcome reads frames until stream id ends (END_STREAM or RST_STREAM) or
// the connection does, answering SETTINGS and PINGs, and returns the
// response status ("" if none) and how it ended.
func (r *rawH2) outcome(t *testing.T, id uint32) (status, ended string) {
	t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	defer func() { _ = r.nc.SetReadDeadline(time.Time{}) }()
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return status, "connection closed"
			}
			t.Fatalf("stream %d: %v", id, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = r.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = r.fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			return status, fmt.Sprintf("GOAWAY %v", f.ErrCode)
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return status, fmt.Sprintf("RST_STREAM %v", f.ErrCode)
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == id {
				if s := f.PseudoValue("status"); s != "" {
					status = s
				}
				if f.StreamEnded() {
					return status, "END_STREAM"
				}
			}
		case *http2.DataFrame:
			if f.StreamID == id && f.StreamEnded() {
				return status, "END_STREAM"
			}
		}
	}
}

// guardedPing is the service behind the authorization CVE-2026-33186
// slipped past in grpc-go: the auth interceptor, selected for the Ping
// procedure, lets a call through only with "X-Allow: yes". The service
// counts the calls that reach it, the auth check records the procedures it
// saw, and the handler records every URL.Path that reached it.
type guardedPing struct {
	calls   atomic.Int32
	paths   sync.Map // every URL.Path that reached the handler
	checked sync.Map // every procedure the auth check saw
}

func (g *guardedPing) Ping(_ context.Context, req *pingv1.PingRequest) (*pingv1.PingResponse, error) {
	g.calls.Add(1)
	return &pingv1.PingResponse{Text: req.GetText(), AnsweredAt: timestamppb.Now()}, nil
}

func (g *guardedPing) Count(context.Context, *pingv1.CountRequest, *rpc.ServerStream[pingv1.CountResponse]) error {
	g.calls.Add(1)
	return nil
}

func (g *guardedPing) handler() http.Handler {
	check := auth.NewServer(func(_ context.Context, req *auth.Request) (any, error) {
		g.checked.Store(req.Procedure(), true)
		if req.Header().Get("X-Allow") != "yes" {
			return nil, rpc.NewError(rpc.CodeUnauthenticated, "not allowed")
		}
		return "allowed", nil
	})
	guard := selector.If(selector.Procedures(pingv1rpc.PingServicePingProcedure), check)
	mux := http.NewServeMux()
	mux.Handle(pingv1rpc.NewPingServiceHandler(g, rpc.WithHandlerInterceptors(guard)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.paths.Store(r.URL.Path, true)
		mux.ServeHTTP(w, r)
	})
}

// badPaths are request targets that name the Ping procedure without being
// its path: no leading slash (the CVE), empty, with a scheme-like prefix,
// doubled or dotted segments, a trailing slash, the asterisk form.
var badPaths = []string{
	"polyconnect.interop.ping.v1.PingService/Ping",
	"polyconnect.interop.ping.v1.PingService/Ping?x=1",
	"polyconnect.interop.ping.v1.PingService:1/Ping",
	"//polyconnect.interop.ping.v1.PingService/Ping",
	"/polyconnect.interop.ping.v1.PingService//Ping",
	"/x/../polyconnect.interop.ping.v1.PingService/Ping",
	"/polyconnect.interop.ping.v1.PingService/Ping/",
	"*",
	"",
}

// TestPathWithoutLeadingSlash: on every transport, a request whose path
// names a procedure without being its exact path (no leading slash, above
// all) reaches no procedure: not the one it names past the selector and
// auth interceptors guarding it, and not another. The auth check sees only
// the procedures that exist, and the handler only paths with a leading
// slash. The controls show the guard stopping the exact path without
// credentials and letting it through with them.
func TestPathWithoutLeadingSlash(t *testing.T) {
	for _, name := range attackTransports {
		t.Run(name, func(t *testing.T) {
			g := &guardedPing{}
			srv := startAttacked(t, name, g.handler())
			send := pathSender(t, name, srv)
			for _, p := range badPaths {
				status, how := send(p, false)
				if n := g.calls.Load(); n != 0 {
					t.Fatalf(":path %q (%s %s) reached the service", p, status, how)
				}
				if status == "200" {
					t.Errorf(":path %q answered 200 (%s)", p, how)
				}
				t.Logf(":path %q: %s %s", p, status, how)
			}
			g.paths.Range(func(k, _ any) bool {
				if p := k.(string); !strings.HasPrefix(p, "/") {
					t.Errorf("the handler saw URL.Path %q", p)
				}
				return true
			})
			g.checked.Range(func(k, _ any) bool {
				if p := k.(string); p != pingv1rpc.PingServicePingProcedure {
					t.Errorf("the auth check saw procedure %q", p)
				}
				return true
			})
			// Controls: the exact path is stopped by the guard without the
			// header and reaches the service with it.
			if status, how := send(pingv1rpc.PingServicePingProcedure, false); status != "401" || g.calls.Load() != 0 {
				t.Errorf("the guard did not stop the Ping path: %s %s, %d calls", status, how, g.calls.Load())
			}
			if status, how := send(pingv1rpc.PingServicePingProcedure, true); status != "200" || g.calls.Load() != 1 {
				t.Errorf("the allowed call: %s %s, %d calls", status, how, g.calls.Load())
			}
		})
	}
}

// pathSender returns a function that sends a Connect unary call with an
// empty message to the raw request target path, over its own connection,
// and reports the response status and how the exchange ended.
func pathSender(t *testing.T, name string, srv transport.Server) func(path string, allow bool) (status, how string) {
	switch name {
	case transport.NameHTTP1:
		return func(path string, allow bool) (string, string) {
			nc, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			extra := ""
			if allow {
				extra = "X-Allow: yes\r\n"
			}
			target := path
			if target == "" {
				target = " " // an empty request target
			}
			fmt.Fprintf(nc, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/proto\r\nContent-Length: 0\r\n%sConnection: close\r\n\r\n", target, extra)
			_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				return "", "no response: " + err.Error()
			}
			_ = resp.Body.Close()
			return fmt.Sprint(resp.StatusCode), "response"
		}
	case transport.NameH3:
		return func(path string, allow bool) (string, string) { return h3RawRequest(t, srv, path, allow) }
	}
	return func(path string, allow bool) (string, string) {
		r := dialRawH2(t, name, srv)
		kv := []string{":method", "POST", ":scheme", "http", ":authority", "test", ":path", path, "content-type", "application/proto"}
		if name == transport.NameH2 || name == h2.NameH2 {
			kv[3] = "https"
		}
		if allow {
			kv = append(kv, "x-allow", "yes")
		}
		r.headers(t, 1, true, kv...)
		return r.outcome(t, 1)
	}
}

// h3RawRequest sends a request with the raw :path over a QUIC connection
// of its own, QPACK-encoded by hand (quic-go's client refuses such paths),
// and reports the response status and how the stream ended.
func h3RawRequest(t *testing.T, srv transport.Server, path string, allow bool) (status, how string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, srv.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h3"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	// The control stream: its type, then an empty SETTINGS frame.
	ctrl, err := conn.OpenUniStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctrl.Write([]byte{0x00, 0x04, 0x00}); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := qpack.NewEncoder(&block)
	fields := [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", "test"}, {":path", path}, {"content-type", "application/proto"}}
	if allow {
		fields = append(fields, [2]string{"x-allow", "yes"})
	}
	for _, f := range fields {
		if err := enc.WriteField(qpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			t.Fatal(err)
		}
	}
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frame := appendVarint(appendVarint(nil, 0x01), uint64(block.Len()))
	frame = append(frame, block.Bytes()...)
	if _, err := str.Write(frame); err != nil {
		t.Fatal(err)
	}
	_ = str.Close()
	br := bufio.NewReader(str)
	for {
		typ, err := readVarint(br)
		if err != nil {
			var se *quic.StreamError
			if errors.As(err, &se) {
				return status, fmt.Sprintf("stream reset %#x", se.ErrorCode)
			}
			return status, "stream ended"
		}
		n, err := readVarint(br)
		if err != nil {
			return status, "stream ended"
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return status, "stream ended"
		}
		if typ == 0x01 && status == "" {
			next := qpack.NewDecoder().Decode(payload)
			for {
				hf, err := next()
				if err != nil {
					break
				}
				if hf.Name == ":status" {
					status = hf.Value
				}
			}
		}
	}
}

// appendVarint appends v as a QUIC variable-length integer.
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v>>8)|0x40, byte(v))
	case v < 1<<30:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, byte(v>>56)|0xc0, byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// readVarint reads a QUIC variable-length integer.
func readVarint(r *bufio.Reader) (uint64, error) {
	first, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	n := 1 << (first >> 6)
	v := uint64(first & 0x3f)
	for i := 1; i < n; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v = v<<8 | uint64(b)
	}
	return v, nil
}

// echoBody answers with the request body.
var echoBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = w.Write(b)
})

// TestUnknownFrameTypes: frames of every type HTTP/2 does not define
// (0x0a to 0xff), on the connection and on streams open, idle or closed,
// with every flag set, are ignored, as RFC 9113 section 5.5 says, on every
// HTTP/2 transport: a request whose frames they surround completes, and
// the connection answers a PING after them. PRIORITY_UPDATE (0x10, RFC
// 9218), which some servers parse, goes in well-formed.
func TestUnknownFrameTypes(t *testing.T) {
	for _, name := range h2Transports {
		t.Run(name, func(t *testing.T) {
			srv := startAttacked(t, name, echoBody)
			r := dialRawH2(t, name, srv)
			scheme := "http"
			if name == transport.NameH2 || name == h2.NameH2 {
				scheme = "https"
			}
			r.headers(t, 1, false, ":method", "POST", ":scheme", scheme, ":authority", "test", ":path", "/echo")
			payloads := [][]byte{nil, {0}, []byte("12345678"), bytes.Repeat([]byte{0xff}, 100)}
			streams := []uint32{0, 1, 3, 1<<31 - 1}
			for typ := 0x0a; typ <= 0xff; typ++ {
				i := typ % 4
				if typ == 0x10 {
					if err := r.fr.WriteRawFrame(0x10, 0, 0, append([]byte{0, 0, 0, 1}, "u=3"...)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := r.fr.WriteRawFrame(http2.FrameType(typ), 0xff, streams[(typ/4)%4], payloads[i]); err != nil {
					t.Fatal(err)
				}
				if typ == 0x80 {
					if err := r.fr.WriteData(1, false, []byte("half ")); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := r.fr.WriteData(1, true, []byte("and the rest")); err != nil {
				t.Fatal(err)
			}
			status, how := r.outcome(t, 1)
			if status != "200" || how != "END_STREAM" {
				t.Fatalf("the request between unknown frames: %s %s", status, how)
			}
			if err := r.fr.WritePing(false, [8]byte{'a', 'l', 'i', 'v', 'e'}); err != nil {
				t.Fatal(err)
			}
			_ = r.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
			for {
				f, err := r.fr.ReadFrame()
				if err != nil {
					t.Fatalf("no PING answer after the unknown frames: %v", err)
				}
				if p, ok := f.(*http2.PingFrame); ok && p.IsAck() {
					break
				}
				if g, ok := f.(*http2.GoAwayFrame); ok {
					t.Fatalf("GOAWAY %v %s after the unknown frames", g.ErrCode, g.DebugData())
				}
			}
		})
	}
}

// TestOneByteDataFlood: DATA frames of one byte (ten on the wire) to a
// handler that does not read cost the server no memory per frame on any
// HTTP/2 transport: a quarter of a million of them grow the heap by
// little more than the bytes they carry.
func TestOneByteDataFlood(t *testing.T) {
	const frames = 250000 // within every transport's initial windows
	for _, name := range h2Transports {
		t.Run(name, func(t *testing.T) {
			release := make(chan struct{})
			srv := startAttacked(t, name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-release
				_, _ = io.Copy(io.Discard, r.Body)
			}))
			defer close(release)
			r := dialRawH2(t, name, srv)
			scheme := "http"
			if name == transport.NameH2 || name == h2.NameH2 {
				scheme = "https"
			}
			// A window large enough for the frames, however the server
			// sizes its own.
			r.headers(t, 1, false, ":method", "POST", ":scheme", scheme, ":authority", "test", ":path", "/")
			if status, _ := r.readUntilStatus(t, 1); status != "200" {
				t.Fatalf("status %q", status)
			}
			before := heapInUse()
			done := make(chan error, 1)
			go func() {
				w := bufio.NewWriterSize(r.nc, 64<<10)
				fr := http2.NewFramer(w, nil)
				one := []byte{'x'}
				for range frames {
					if err := fr.WriteData(1, false, one); err != nil {
						done <- err
						return
					}
				}
				_ = fr.WritePing(false, [8]byte{'f', 'l', 'o', 'o', 'd'})
				done <- w.Flush()
			}()
			// Once the PING after the frames is answered, the server has
			// read them all.
			_ = r.nc.SetReadDeadline(time.Now().Add(60 * time.Second))
			for {
				f, err := r.fr.ReadFrame()
				if err != nil {
					t.Fatalf("the server did not answer the PING after the frames: %v", err)
				}
				if p, ok := f.(*http2.PingFrame); ok && p.IsAck() && p.Data == [8]byte{'f', 'l', 'o', 'o', 'd'} {
					break
				}
				if rst, ok := f.(*http2.RSTStreamFrame); ok {
					t.Fatalf("RST_STREAM %v", rst.ErrCode)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			grown := heapInUse() - before
			t.Logf("%d one-byte frames: heap %+d KiB", frames, grown>>10)
			// The bytes themselves, the buffers they sit in (growing by
			// doubling: up to twice as much), and slack for whatever else
			// the process allocated meanwhile.
			if limit := int64(2*frames + 4<<20); grown > limit {
				t.Errorf("the heap grew by %d bytes for %d one-byte frames, more than %d", grown, frames, limit)
			}
		})
	}
}

// readUntilStatus reads frames until the response headers of stream id.
func (r *rawH2) readUntilStatus(t *testing.T, id uint32) (string, error) {
	t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	defer func() { _ = r.nc.SetReadDeadline(time.Time{}) }()
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			return "", err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = r.fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == id {
				return f.PseudoValue("status"), nil
			}
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			return "", fmt.Errorf("%v", f)
		}
	}
}

// heapInUse returns the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

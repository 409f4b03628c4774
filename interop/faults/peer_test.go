package faults_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
)

// The faults only a server's transport can cause (a stream reset with a
// chosen code, a refused stream, a GOAWAY) cannot be provoked through an
// http.Handler on every server, so they come from scripted peers: a
// hand-driven HTTP/2 server speaking frames (cleartext or TLS) for the
// HTTP/2 clients, quic-go's HTTP/3 server with the handler taking the
// stream over for the HTTP/3 client. What is under test is each client and
// rpc's mapping; no handler of ours runs, so the server's side is none.
// HTTP/1.1 has no streams to reset, refuse or go away from.

// peerFault is a fault a scripted peer causes.
type peerFault struct {
	name string
	// h2 handles one request on an HTTP/2 peer; attempt counts the
	// requests the peer got, from 1.
	h2 func(p *h2Peer, id uint32, contentType string, attempt int)
	// h3 handles one request on the HTTP/3 peer; attempt counts from 1.
	h3   func(w http.ResponseWriter, r *http.Request, attempt int, serve http.Handler)
	want string // the client's outcome
	// h2Only marks faults HTTP/3 has no equivalent of.
	h2Only bool
}

// resetBeforeResponse resets the stream with the HTTP/2 code (and, over
// HTTP/3, its RFC 9114 pair) before any response.
func resetBeforeResponse(code http2.ErrCode, h3code http3.ErrCode, want rpc.Code) peerFault {
	return peerFault{
		name: "peer resets before responding: " + code.String(),
		h2: func(p *h2Peer, id uint32, _ string, _ int) {
			p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
		},
		h3: func(w http.ResponseWriter, _ *http.Request, _ int, _ http.Handler) {
			cancelStream(w, h3code)
		},
		want:   want.String(),
		h2Only: h3code == 0,
	}
}

var peerFaults = []peerFault{
	resetBeforeResponse(http2.ErrCodeCancel, http3.ErrCodeRequestCanceled, rpc.CodeCanceled),
	resetBeforeResponse(http2.ErrCodeInternal, http3.ErrCodeInternalError, rpc.CodeInternal),
	resetBeforeResponse(http2.ErrCodeNo, http3.ErrCodeNoError, rpc.CodeInternal),
	resetBeforeResponse(http2.ErrCodeEnhanceYourCalm, http3.ErrCodeExcessiveLoad, rpc.CodeResourceExhausted),
	resetBeforeResponse(http2.ErrCodeInadequateSecurity, 0, rpc.CodePermissionDenied),
	{
		name: "peer resets after the response headers: INTERNAL_ERROR",
		h2: func(p *h2Peer, id uint32, ct string, _ int) {
			p.headers(id, false, ":status", "200", "content-type", ct)
			p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, http2.ErrCodeInternal) })
		},
		h3: func(w http.ResponseWriter, r *http.Request, _ int, _ http.Handler) {
			w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusOK)
			cancelStream(w, http3.ErrCodeInternalError)
		},
		want: internal,
	},
	{
		name: "peer refuses the first request (REFUSED_STREAM, H3_REQUEST_REJECTED)",
		h2: func(p *h2Peer, id uint32, ct string, attempt int) {
			if attempt == 1 {
				p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, http2.ErrCodeRefusedStream) })
				return
			}
			p.succeed(id, ct)
		},
		h3: func(w http.ResponseWriter, r *http.Request, attempt int, serve http.Handler) {
			if attempt == 1 {
				cancelStream(w, http3.ErrCodeRequestRejected)
				return
			}
			serve.ServeHTTP(w, r)
		},
		want: none, // not processed, so sent again: the call succeeds
	},
	{
		name: "peer goes away (GOAWAY last stream 0) before processing",
		h2: func(p *h2Peer, id uint32, ct string, attempt int) {
			if attempt == 1 {
				p.write(func(fr *http2.Framer) error { return fr.WriteGoAway(0, http2.ErrCodeNo, nil) })
				p.close()
				return
			}
			p.succeed(id, ct)
		},
		want:   none, // not processed, so sent again on a new connection
		h2Only: true,
	},
	{
		name: "peer goes away with ENHANCE_YOUR_CALM (too_many_pings) mid-call",
		h2: func(p *h2Peer, id uint32, ct string, _ int) {
			p.headers(id, false, ":status", "200", "content-type", ct)
			p.write(func(fr *http2.Framer) error {
				return fr.WriteGoAway(id, http2.ErrCodeEnhanceYourCalm, []byte("too_many_pings"))
			})
			p.close()
		},
		h3: func(w http.ResponseWriter, r *http.Request, _ int, _ http.Handler) {
			w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			conn := r.Context().Value(quicConnKey{}).(*quic.Conn)
			_ = conn.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeExcessiveLoad), "too_many_pings")
		},
		want: unavailable, // the connection is lost; the call may be retried
	},
}

// peerTransports are the transports that have streams.
var peerTransports = []string{transport.NameH2C, transport.NameH2, h2.NameH2C, h2.NameH2, transport.NameH3}

var specUnary = rpc.Spec{Procedure: "/faults.v1.Faults/Unary"}

// TestPeerFaultMatrix runs every scripted peer fault against every
// client with streams and every protocol.
func TestPeerFaultMatrix(t *testing.T) {
	table := map[string]map[string]string{}
	var names []string
	var mismatches []string
	for _, f := range peerFaults {
		names = append(names, f.name)
		table[f.name] = map[string]string{}
		for _, name := range peerTransports {
			if name == transport.NameH3 && f.h2Only {
				continue
			}
			for _, p := range protocols {
				key := name + "/" + p.String()
				t.Run(f.name+"/"+key, func(t *testing.T) {
					got := runPeerFault(t, f, name, p)
					table[f.name][key] = got + "/" + none
					if got != f.want {
						mismatches = append(mismatches, fmt.Sprintf("%s over %s: got %s, want %s", f.name, key, got, f.want))
						t.Errorf("got %s, want %s", got, f.want)
					}
				})
			}
		}
	}
	t.Logf("client/server outcomes:%s", formatTable(names, table))
	if len(mismatches) > 0 {
		t.Logf("%d cases differ from the contract:\n%s", len(mismatches), strings.Join(mismatches, "\n"))
	}
}

func runPeerFault(t *testing.T, f peerFault, name string, p rpc.Protocol) string {
	var url string
	if name == transport.NameH3 {
		url = startH3Peer(t, f)
	} else {
		url = startH2Peer(t, f, usesTLS(name))
	}
	c := rpc.NewClient[sv, sv](newClient(t, name), url, specUnary, rpc.WithProtocol(p))
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	res, err := c.CallUnary(ctx, wrapperspb.String("go"))
	if err == nil && res.GetValue() != "ok" {
		return fmt.Sprintf("response %q", res.GetValue())
	}
	return codeName(err)
}

// h2Peer is one connection of the scripted HTTP/2 server.
type h2Peer struct {
	nc  net.Conn
	mu  sync.Mutex // guards fr's writes and enc
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
}

func (p *h2Peer) write(f func(fr *http2.Framer) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = f(p.fr)
}

func (p *h2Peer) close() { _ = p.nc.Close() }

// headers writes a header block of name/value pairs.
func (p *h2Peer) headers(id uint32, end bool, kv ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Reset()
	for i := 0; i < len(kv); i += 2 {
		_ = p.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	_ = p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: p.buf.Bytes(), EndHeaders: true, EndStream: end})
}

// succeed answers a unary call with the message "ok" in the protocol its
// content type names.
func (p *h2Peer) succeed(id uint32, ct string) {
	msg, _ := proto.Marshal(wrapperspb.String("ok"))
	envelope := func(flags byte, b []byte) []byte {
		out := make([]byte, 5, 5+len(b))
		out[0] = flags
		binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
		return append(out, b...)
	}
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		p.headers(id, false, ":status", "200", "content-type", ct)
		body := append(envelope(0, msg), envelope(0x80, []byte("grpc-status: 0\r\n"))...)
		p.write(func(fr *http2.Framer) error { return fr.WriteData(id, true, body) })
	case strings.HasPrefix(ct, "application/grpc"):
		p.headers(id, false, ":status", "200", "content-type", ct)
		p.write(func(fr *http2.Framer) error { return fr.WriteData(id, false, envelope(0, msg)) })
		p.headers(id, true, "grpc-status", "0")
	default: // Connect unary
		p.headers(id, false, ":status", "200", "content-type", ct)
		p.write(func(fr *http2.Framer) error { return fr.WriteData(id, true, msg) })
	}
}

// startH2Peer serves f's script on a loopback port, with TLS (ALPN h2)
// if asked, and returns its base URL; it stops with the test.
func startH2Peer(t *testing.T, f peerFault, useTLS bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http"
	if useTLS {
		cert, err := tls.X509KeyPair(testPKI(t).ServerCertPEM, testPKI(t).ServerKeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
		scheme = "https"
	}
	var attempts atomic.Int32
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				servePeer(nc, f, &attempts)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return scheme + "://" + ln.Addr().String()
}

// servePeer runs one connection: the preface and SETTINGS, then f's script
// for each request's HEADERS; DATA is read and dropped.
func servePeer(nc net.Conn, f peerFault, attempts *atomic.Int32) {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(nc, preface); err != nil {
		return
	}
	p := &h2Peer{nc: nc, fr: http2.NewFramer(nc, nc)}
	p.enc = hpack.NewEncoder(&p.buf)
	p.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	p.write(func(fr *http2.Framer) error { return fr.WriteSettings() })
	for {
		frame, err := p.fr.ReadFrame()
		if err != nil {
			return
		}
		switch frame := frame.(type) {
		case *http2.SettingsFrame:
			if !frame.IsAck() {
				p.write(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if !frame.IsAck() {
				p.write(func(fr *http2.Framer) error { return fr.WritePing(true, frame.Data) })
			}
		case *http2.DataFrame:
			if n := len(frame.Data()); n > 0 {
				p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, uint32(n)) })
			}
		case *http2.MetaHeadersFrame:
			f.h2(p, frame.StreamID, headerValue(frame, "content-type"), int(attempts.Add(1)))
		}
	}
}

func headerValue(f *http2.MetaHeadersFrame, name string) string {
	for _, hf := range f.RegularFields() {
		if hf.Name == name {
			return hf.Value
		}
	}
	return ""
}

// quicConnKey keys the QUIC connection in the HTTP/3 peer's request
// contexts.
type quicConnKey struct{}

// cancelStream resets the stream of an HTTP/3 response with code, in both
// directions.
func cancelStream(w http.ResponseWriter, code http3.ErrCode) {
	str, err := w.(http3.HTTPStreamer).HTTPStream()
	if err != nil {
		panic(err)
	}
	str.CancelRead(quic.StreamErrorCode(code))
	str.CancelWrite(quic.StreamErrorCode(code))
}

// startH3Peer serves f's script on quic-go's HTTP/3 server and returns its
// base URL; successful calls are answered by a real handler.
func startH3Peer(t *testing.T, f peerFault) string {
	t.Helper()
	cert, err := tls.X509KeyPair(testPKI(t).ServerCertPEM, testPKI(t).ServerKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve := rpc.NewUnaryHandler(specUnary, func(context.Context, *sv) (*sv, error) { return wrapperspb.String("ok"), nil })
	var attempts atomic.Int32
	srv := &http3.Server{
		TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.h3(w, r, int(attempts.Add(1)), serve)
		}),
		ConnContext: func(ctx context.Context, c *quic.Conn) context.Context {
			return context.WithValue(ctx, quicConnKey{}, c)
		},
		Logger: quiet,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(pc)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = pc.Close()
		<-done
	})
	return "https://" + pc.LocalAddr().String()
}

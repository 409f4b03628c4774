package h2

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"polyconnect.dev/protocol/transport"
)

// scriptedServer is a cleartext HTTP/2 peer driven by the test: for each
// connection it reads the client's preface, sends its SETTINGS and, once a
// request's HEADERS arrive, runs script with the framer and the stream ID.
// It returns the server's address; it stops with the test.
func scriptedServer(t *testing.T, script func(fr *http2.Framer, nc net.Conn, id uint32)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			serveScripted(nc, script)
		}
	}()
	return ln.Addr().String()
}

func serveScripted(nc net.Conn, script func(fr *http2.Framer, nc net.Conn, id uint32)) {
	defer nc.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(nc, preface); err != nil {
		return
	}
	fr := http2.NewFramer(nc, nc)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if fr.WriteSettings() != nil {
		return
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			script(fr, nc, f.StreamID)
		}
	}
}

// responseHeaders writes the headers of a 200 response on id.
func responseHeaders(fr *http2.Framer, id uint32, end bool) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: buf.Bytes(), EndHeaders: true, EndStream: end})
}

func h2cClient(t *testing.T) *Client {
	return newClient(t, transport.Config{Name: NameH2C})
}

func get(t *testing.T, c *Client, url string) (*http.Response, error) {
	t.Helper()
	return c.Do(newRequest(t, http.MethodGet, url, nil))
}

func TestClientPeerResetCodes(t *testing.T) {
	for _, code := range []http2.ErrCode{http2.ErrCodeCancel, http2.ErrCodeInternal, http2.ErrCodeEnhanceYourCalm, http2.ErrCodeInadequateSecurity, http2.ErrCodeNo} {
		t.Run(code.String(), func(t *testing.T) {
			addr := scriptedServer(t, func(fr *http2.Framer, _ net.Conn, id uint32) { _ = fr.WriteRSTStream(id, code) })
			_, err := get(t, h2cClient(t), "http://"+addr+"/")
			var reset *transport.StreamResetError
			if !errors.As(err, &reset) || reset.Code != uint64(code) || reset.HTTP3 || !reset.Remote {
				t.Fatalf("%v (%T): want a %v reset from the peer", err, err, code)
			}
			if errors.Is(err, transport.ErrNotProcessed) {
				t.Errorf("a %v reset is not a refusal", code)
			}
		})
	}
}

func TestClientRefusedStream(t *testing.T) {
	refused := 0
	addr := scriptedServer(t, func(fr *http2.Framer, _ net.Conn, id uint32) {
		refused++
		_ = fr.WriteRSTStream(id, http2.ErrCodeRefusedStream)
	})
	_, err := get(t, h2cClient(t), "http://"+addr+"/")
	var reset *transport.StreamResetError
	if !errors.Is(err, transport.ErrNotProcessed) || !errors.As(err, &reset) || reset.Code != transport.HTTP2RefusedStream {
		t.Fatalf("%v (%T): want not processed, with the REFUSED_STREAM reset", err, err)
	}
	if refused < 2 {
		t.Errorf("the refused request was sent %d times: a request without a body is sent again", refused)
	}
}

func TestClientResetAfterHeaders(t *testing.T) {
	addr := scriptedServer(t, func(fr *http2.Framer, _ net.Conn, id uint32) {
		responseHeaders(fr, id, false)
		_ = fr.WriteData(id, false, []byte("part"))
		_ = fr.WriteRSTStream(id, http2.ErrCodeInternal)
	})
	resp, err := get(t, h2cClient(t), "http://"+addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	var reset *transport.StreamResetError
	if !errors.As(err, &reset) || reset.Code != transport.HTTP2InternalError || !reset.Remote {
		t.Fatalf("%v (%T): want an INTERNAL_ERROR reset from the peer", err, err)
	}
}

func TestClientLocalStreamError(t *testing.T) {
	addr := scriptedServer(t, func(fr *http2.Framer, _ net.Conn, id uint32) {
		_ = fr.WriteData(id, true, []byte("before the headers")) // a stream error
	})
	_, err := get(t, h2cClient(t), "http://"+addr+"/")
	var reset *transport.StreamResetError
	if !errors.As(err, &reset) || reset.Code != transport.HTTP2ProtocolError || reset.Remote {
		t.Fatalf("%v (%T): want a PROTOCOL_ERROR reset by the client", err, err)
	}
}

func TestClientGoAwayWithError(t *testing.T) {
	addr := scriptedServer(t, func(fr *http2.Framer, nc net.Conn, id uint32) {
		responseHeaders(fr, id, false)
		_ = fr.WriteGoAway(id, http2.ErrCodeEnhanceYourCalm, []byte("too_many_pings"))
		nc.Close()
	})
	resp, err := get(t, h2cClient(t), "http://"+addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	var goAway *transport.GoAwayError
	if !errors.Is(err, transport.ErrConnectionLost) || !errors.As(err, &goAway) ||
		goAway.Code != transport.HTTP2EnhanceYourCalm || goAway.Debug != "too_many_pings" {
		t.Fatalf("%v (%T): want a lost connection with the GOAWAY", err, err)
	}
}

func TestClientAboveGoAway(t *testing.T) {
	addr := scriptedServer(t, func(fr *http2.Framer, nc net.Conn, id uint32) {
		_ = fr.WriteGoAway(0, http2.ErrCodeNo, nil) // processes nothing
	})
	_, err := get(t, h2cClient(t), "http://"+addr+"/")
	var goAway *transport.GoAwayError
	if !errors.Is(err, transport.ErrNotProcessed) || !errors.As(err, &goAway) || goAway.Code != transport.HTTP2NoError {
		t.Fatalf("%v (%T): want not processed, with the GOAWAY", err, err)
	}
}

func TestClientConnectionKilled(t *testing.T) {
	addr := scriptedServer(t, func(fr *http2.Framer, nc net.Conn, id uint32) {
		responseHeaders(fr, id, false)
		nc.Close()
	})
	resp, err := get(t, h2cClient(t), "http://"+addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	var lost *transport.ConnectionLostError
	if !errors.As(err, &lost) || lost.Addr != addr {
		t.Fatalf("%v (%T): want a lost connection to %s", err, err, addr)
	}
}

func TestClientDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = get(t, h2cClient(t), "http://"+addr+"/")
	var dial *transport.DialError
	if !errors.As(err, &dial) || dial.Addr != addr || !errors.Is(err, transport.ErrNotProcessed) {
		t.Fatalf("%v (%T): want a DialError for %s", err, err, addr)
	}
}

func TestClientTLSErrors(t *testing.T) {
	quiet := log.New(io.Discard, "", 0)
	t.Run("untrusted", func(t *testing.T) {
		srv := startServer(t, serverConfig(t, NameH2), http.NotFoundHandler(), WithErrorLog(quiet))
		c := newClient(t, transport.Config{Name: NameH2}) // system roots only
		_, err := get(t, c, srv.URL())
		if !errors.Is(err, transport.ErrTLS) {
			t.Fatalf("%v (%T): want a TLS error", err, err)
		}
	})
	t.Run("cleartext port", func(t *testing.T) {
		srv := startServer(t, serverConfig(t, NameH2C), http.NotFoundHandler(), WithErrorLog(quiet))
		c := newClient(t, clientConfig(t, NameH2))
		_, err := get(t, c, "https://"+srv.Addr().String()+"/")
		var tlsErr *transport.TLSError
		if !errors.As(err, &tlsErr) || !strings.Contains(tlsErr.Hint, "does not speak TLS") || !strings.Contains(err.Error(), `"h2c-rpc"`) {
			t.Fatalf("%v (%T): want a TLS error saying the server speaks no TLS", err, err)
		}
	})
	t.Run("no HTTP/2", func(t *testing.T) {
		ts := httptest.NewUnstartedServer(http.NotFoundHandler())
		ts.Config.ErrorLog = quiet
		ts.StartTLS() // HTTP/1.1 only: no h2 in ALPN
		defer ts.Close()
		c := newClient(t, transport.Config{Name: NameH2, TLSConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig})
		_, err := get(t, c, ts.URL)
		if !errors.Is(err, transport.ErrTLS) || !strings.Contains(err.Error(), "ALPN") || !strings.Contains(err.Error(), `"http1"`) {
			t.Fatalf("%v (%T): want a TLS error about ALPN", err, err)
		}
	})
}

// TestClientWrongServer checks that an h2c-rpc client pointed at a server
// that does not speak HTTP/2 without TLS is told what the server speaks.
// Before, a TLS port read "h2: connection closed".
func TestClientWrongServer(t *testing.T) {
	quiet := log.New(io.Discard, "", 0)
	ours := startServer(t, serverConfig(t, NameH2), http.NotFoundHandler(), WithErrorLog(quiet))
	netTLS := httptest.NewUnstartedServer(http.NotFoundHandler())
	netTLS.Config.ErrorLog = quiet
	netTLS.EnableHTTP2 = true
	netTLS.StartTLS()
	defer netTLS.Close()
	http1 := httptest.NewServer(http.NotFoundHandler()) // HTTP/1.1 only
	defer http1.Close()
	cases := []struct {
		name, addr, want string
	}{
		{"our TLS port", ours.Addr().String(), `is a TLS port`},
		{"net/http's TLS port", strings.TrimPrefix(netTLS.URL, "https://"), `is a TLS port`},
		{"HTTP/1.1 only", strings.TrimPrefix(http1.URL, "http://"), `answered in HTTP/1.x`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := get(t, h2cClient(t), "http://"+c.addr+"/")
			if !errors.Is(err, transport.ErrDial) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v: want a DialError saying it %s", err, c.want)
			}
			if c.want == `is a TLS port` && !strings.Contains(err.Error(), `use "h2-rpc"`) {
				t.Errorf("%v: does not say to use h2-rpc", err)
			}
		})
	}
}

func TestClientSchemeMismatch(t *testing.T) {
	_, err := h2cClient(t).Do(newRequest(t, http.MethodGet, "https://127.0.0.1:1/x", nil))
	if err == nil || !strings.Contains(err.Error(), "without TLS") || !strings.Contains(err.Error(), `"h2-rpc"`) {
		t.Errorf("h2c-rpc with https: %v", err)
	}
	c := newClient(t, clientConfig(t, NameH2))
	_, err = c.Do(newRequest(t, http.MethodGet, "http://127.0.0.1:1/x", nil))
	if err == nil || !strings.Contains(err.Error(), "over TLS") || !strings.Contains(err.Error(), `"h2c-rpc"`) {
		t.Errorf("h2-rpc with http: %v", err)
	}
}

// TestServerRequestBodyErrors checks what a handler reading the request
// body gets when the client resets the stream or the connection dies.
func TestServerRequestBodyErrors(t *testing.T) {
	for _, name := range names {
		for _, fault := range []string{"client cancels", "connection killed"} {
			t.Run(name+"/"+fault, func(t *testing.T) {
				reading := make(chan struct{})
				got := make(chan error, 1)
				srv := startServer(t, serverConfig(t, name), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					buf := make([]byte, 1)
					if _, err := io.ReadFull(r.Body, buf); err != nil {
						got <- err
						return
					}
					close(reading)
					_, err := io.ReadAll(r.Body)
					got <- err
				}))
				conns := make(chan net.Conn, 1)
				c := newClient(t, clientConfig(t, name), WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
					nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err == nil {
						conns <- nc
					}
					return nc, err
				}))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				pr, pw := io.Pipe()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL(), pr)
				done := make(chan struct{})
				go func() {
					defer close(done)
					if resp, err := c.Do(req); err == nil {
						resp.Body.Close()
					}
				}()
				_, _ = pw.Write([]byte("x"))
				recv(t, reading, "the handler to read")
				if fault == "client cancels" {
					cancel()
				} else {
					(<-conns).Close()
				}
				err := recv(t, got, "the handler's read error")
				pw.CloseWithError(errors.New("abandoned"))
				<-done
				var reset *transport.StreamResetError
				switch {
				case fault == "client cancels" && (!errors.As(err, &reset) || reset.Code != transport.HTTP2Cancel || !reset.Remote):
					t.Fatalf("%v (%T): want a CANCEL reset from the client", err, err)
				case fault == "connection killed" && !errors.Is(err, transport.ErrConnectionLost):
					t.Fatalf("%v (%T): want a lost connection", err, err)
				}
			})
		}
	}
}

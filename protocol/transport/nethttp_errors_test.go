package transport_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"polyconnect.dev/protocol/transport"
)

// The tests of NetHTTPClientError and NetHTTPServerError provoke each
// failure on real loopback connections with net/http's own client and
// server, so that a Go release that changes what net/http returns (its
// HTTP/2 stream error's fields, the two sentinels recognised by their text)
// fails here.

// h2cServer serves h over HTTP/1.1 and h2c; it stops with the test.
func h2cServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handlers panic on purpose
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// h2cClient speaks h2c with prior knowledge, dialling through dial if set.
func h2cClient(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	t.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols), DialContext: dial}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestNetHTTPClientStreamReset(t *testing.T) {
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // net/http resets the stream with INTERNAL_ERROR
	}))
	resp, err := h2cClient(t, nil).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	got := transport.NetHTTPClientError(err)
	var reset *transport.StreamResetError
	if !errors.As(got, &reset) {
		t.Fatalf("%v (%T): not a stream reset", got, got)
	}
	if reset.Code != transport.HTTP2InternalError || reset.HTTP3 || !reset.Remote {
		t.Errorf("got %+v, want INTERNAL_ERROR from the peer", reset)
	}
	if !errors.Is(got, err) {
		t.Errorf("the net/http error is not kept as the cause")
	}
}

func TestNetHTTPClientDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = (&http.Client{}).Get("http://" + addr + "/")
	got := transport.NetHTTPClientError(err)
	var dial *transport.DialError
	if !errors.As(got, &dial) || dial.Addr != addr {
		t.Fatalf("%v (%T): want a DialError for %s", got, got, addr)
	}
	if !errors.Is(got, transport.ErrNotProcessed) {
		t.Errorf("a dial error must be ErrNotProcessed")
	}
}

func TestNetHTTPClientTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	defer srv.Close()
	_, err := (&http.Client{Transport: &http.Transport{}}).Get(srv.URL) // does not trust the test certificate
	got := transport.NetHTTPClientError(err)
	var tlsErr *transport.TLSError
	if !errors.As(got, &tlsErr) || tlsErr.Addr != strings.TrimPrefix(srv.URL, "https://") {
		t.Fatalf("%v (%T): want a TLSError for the server", got, got)
	}
}

func TestNetHTTPClientConnectionLost(t *testing.T) {
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // no response at all
		}
	}))
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	_, err := (&http.Client{Transport: tr}).Get(srv.URL)
	got := transport.NetHTTPClientError(err)
	if !errors.Is(got, transport.ErrConnectionLost) {
		t.Fatalf("%v (%T): want a lost connection", got, got)
	}
}

// bodyError serves one request whose handler reads the body until it
// fails, and returns that error. start makes the request and, once told
// the handler reads, provokes the failure.
func bodyError(t *testing.T, start func(url string, reading <-chan struct{})) error {
	t.Helper()
	reading := make(chan struct{})
	got := make(chan error, 1)
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			got <- err
			return
		}
		close(reading)
		_, err := io.ReadAll(r.Body)
		got <- err
	}))
	start(srv.URL, reading)
	return <-got
}

func TestNetHTTPServerStreamReset(t *testing.T) {
	err := bodyError(t, func(url string, reading <-chan struct{}) {
		pr, pw := io.Pipe()
		defer pw.Close()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, pr)
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := h2cClient(t, nil).Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}()
		_, _ = pw.Write([]byte("x"))
		<-reading
		cancel() // net/http's client resets the stream with CANCEL
		// An error, not EOF: the request must not end cleanly after all.
		pw.CloseWithError(errors.New("abandoned"))
		<-done
	})
	got := transport.NetHTTPServerError(err)
	var reset *transport.StreamResetError
	if !errors.As(got, &reset) || reset.Code != transport.HTTP2Cancel || !reset.Remote {
		t.Fatalf("%v (%T): want a CANCEL reset from the client", got, got)
	}
}

func TestNetHTTPServerClientDisconnected(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "h2c"} {
		t.Run(proto, func(t *testing.T) {
			err := bodyError(t, func(url string, reading <-chan struct{}) {
				conns := make(chan net.Conn, 1)
				dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
					c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err == nil {
						conns <- c
					}
					return c, err
				}
				client := h2cClient(t, dial)
				if proto == "HTTP/1.1" {
					tr := &http.Transport{DialContext: dial}
					defer tr.CloseIdleConnections()
					client = &http.Client{Transport: tr}
				}
				pr, pw := io.Pipe()
				defer pw.Close()
				req, _ := http.NewRequest(http.MethodPost, url, pr)
				req.ContentLength = 100 // HTTP/1.1: a body that ends early
				done := make(chan struct{})
				go func() {
					defer close(done)
					resp, err := client.Do(req)
					if err == nil {
						resp.Body.Close()
					}
				}()
				_, _ = pw.Write([]byte("x"))
				<-reading
				(<-conns).Close() // the connection dies under the request
				pw.CloseWithError(errors.New("abandoned"))
				<-done
			})
			if got := transport.NetHTTPServerError(err); !errors.Is(got, transport.ErrConnectionLost) {
				t.Fatalf("%v (%T): want a lost connection", got, got)
			}
		})
	}
}

func TestNetHTTPErrorsUnchanged(t *testing.T) {
	own := errors.New("something else")
	for _, err := range []error{nil, io.EOF, context.Canceled, own, &http.MaxBytesError{Limit: 1}} {
		if got := transport.NetHTTPClientError(err); got != err {
			t.Errorf("client: %v became %v", err, got)
		}
		if got := transport.NetHTTPServerError(err); got != err {
			t.Errorf("server: %v became %v", err, got)
		}
	}
	lost := &transport.ConnectionLostError{Err: io.ErrUnexpectedEOF}
	if got := transport.NetHTTPClientError(lost); got != lost {
		t.Errorf("an error already translated changed: %v", got)
	}
}

package nethttp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
)

// The failures of a client and of a handler reading a request, over each
// transport of this package, in package transport's words.

// waitFor bounds how long a test waits for what the other side of a
// loopback connection does; it only turns a hang into a failure.
const waitFor = 20 * time.Second

func recvErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(waitFor):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}

func TestClientStreamReset(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			srv := startServer(t, s.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, "part")
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler) // HTTP/2: RST_STREAM INTERNAL_ERROR; HTTP/1.1: the connection closes
			}))
			c := newClient(t, s.client)
			res, err := c.Do(mustRequest(t, srv.URL()))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			_, err = io.ReadAll(res.Body)
			if s.protoMajor == 1 {
				if !errors.Is(err, transport.ErrConnectionLost) {
					t.Fatalf("%v (%T): want a lost connection", err, err)
				}
				return
			}
			var reset *transport.StreamResetError
			if !errors.As(err, &reset) || reset.Code != transport.HTTP2InternalError || !reset.Remote {
				t.Fatalf("%v (%T): want an INTERNAL_ERROR reset from the server", err, err)
			}
		})
	}
}

func TestClientDialAndTLSErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, name := range []string{transport.NameHTTP1, transport.NameH2C, transport.NameH2} {
		c := newClient(t, transport.Config{Name: name, Addr: closed})
		_, err := c.Do(mustRequest(t, c.URL()))
		var dial *transport.DialError
		if !errors.As(err, &dial) || dial.Addr != closed || !errors.Is(err, transport.ErrNotProcessed) {
			t.Errorf("%s: %v (%T): want a DialError for %s", name, err, err, closed)
		}
	}
	srv := startServer(t, transport.Config{Name: transport.NameH2, Addr: "127.0.0.1:0", TLS: testPKI(t).ServerTLS()}, http.NotFoundHandler())
	c := newClient(t, transport.Config{Name: transport.NameH2, Addr: srv.Addr().String()}) // does not trust the test CA
	_, err = c.Do(mustRequest(t, c.URL()))
	var tlsErr *transport.TLSError
	if !errors.As(err, &tlsErr) || tlsErr.Addr != srv.Addr().String() {
		t.Errorf("untrusted certificate: %v (%T): want a TLSError", err, err)
	}
}

// TestWrongServerIsDialError checks that the diagnosis of a server that
// speaks another protocol is a DialError, so that balancers and retries
// see a request that was not processed.
func TestWrongServerIsDialError(t *testing.T) {
	srv := startServer(t, transport.Config{Name: transport.NameH2, Addr: "127.0.0.1:0", TLS: testPKI(t).ServerTLS()}, http.NotFoundHandler())
	for _, name := range []string{transport.NameH2C, transport.NameHTTP1} {
		c := newClient(t, transport.Config{Name: name, Addr: srv.Addr().String()})
		_, err := c.Do(mustRequest(t, c.URL()))
		if !errors.Is(err, transport.ErrDial) || !strings.Contains(err.Error(), "is a TLS port") {
			t.Errorf("%s at a TLS port: %v (%T)", name, err, err)
		}
	}
}

// TestClientSchemeMismatch: an h2c client given an https:// URL was told
// the server "does not speak h2c".
func TestClientSchemeMismatch(t *testing.T) {
	cases := []struct{ name, url, want string }{
		{transport.NameH2C, "https://127.0.0.1:1/x", `an "h2c" client speaks HTTP/2 without TLS and sends http:// URLs; for a TLS server use "h2"`},
		{transport.NameH2, "http://127.0.0.1:1/x", `an "h2" client speaks HTTP/2 over TLS and sends https:// URLs; for a cleartext server use "h2c"`},
	}
	for _, c := range cases {
		client := newClient(t, transport.Config{Name: c.name})
		_, err := client.Do(mustRequest(t, c.url))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %s: %v", c.name, c.url, err)
		}
	}
}

func TestClientConnectionLost(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			srv := startServer(t, s.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}))
			c := newClient(t, s.client)
			res, err := c.Do(mustRequest(t, srv.URL()))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			srv.Close() // every connection closes under the call
			_, err = io.ReadAll(res.Body)
			if !errors.Is(err, transport.ErrConnectionLost) {
				t.Fatalf("%v (%T): want a lost connection", err, err)
			}
		})
	}
}

// TestServerRequestBodyErrors checks what a handler reading the request
// body gets when the client cancels or the connection dies.
func TestServerRequestBodyErrors(t *testing.T) {
	for _, s := range setups(t) {
		for _, fault := range []string{"client cancels", "connection killed"} {
			t.Run(s.name+"/"+fault, func(t *testing.T) {
				reading := make(chan struct{})
				got := make(chan error, 1)
				srv := startServer(t, s.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
				c := newClient(t, s.client, nethttp.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
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
					if res, err := c.Do(req); err == nil {
						res.Body.Close()
					}
				}()
				_, _ = pw.Write([]byte("x"))
				select {
				case <-reading:
				case <-time.After(waitFor):
					t.Fatal("the handler did not read")
				}
				if fault == "client cancels" {
					cancel()
				} else {
					(<-conns).Close()
				}
				err := recvErr(t, got, "the handler's read error")
				pw.CloseWithError(errors.New("abandoned"))
				<-done
				var reset *transport.StreamResetError
				switch {
				case fault == "client cancels" && s.protoMajor == 2:
					if !errors.As(err, &reset) || reset.Code != transport.HTTP2Cancel || !reset.Remote {
						t.Fatalf("%v (%T): want a CANCEL reset from the client", err, err)
					}
				default: // HTTP/1.1 cancels by closing the connection
					if !errors.Is(err, transport.ErrConnectionLost) {
						t.Fatalf("%v (%T): want a lost connection", err, err)
					}
				}
			})
		}
	}
}

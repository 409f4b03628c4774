package nethttp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
)

// startForShutdown starts a server for s.server, serving in a goroutine
// through Serve, with a hook that reports when Shutdown has begun (the
// listener is closed by then).
func startForShutdown(t *testing.T, cfg transport.Config, h http.Handler) (srv *nethttp.Server, begun <-chan struct{}, serveErr <-chan error) {
	t.Helper()
	began := make(chan struct{})
	var once sync.Once
	srv = startServer(t, cfg, h, nethttp.WithServerHook(func(hs *http.Server) {
		hs.RegisterOnShutdown(func() { once.Do(func() { close(began) }) })
	}))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	return srv, began, errc
}

// signalOnce returns a channel and a func that closes it, safe to call
// more than once.
func signalOnce() (chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }
}

// TestShutdownWaitsForUnaryCall shuts down while a handler is blocked:
// Shutdown must refuse new connections, wait for the handler, deliver its
// response and only then return.
func TestShutdownWaitsForUnaryCall(t *testing.T) {
	t.Parallel()
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			entered, enter := signalOnce()
			release := make(chan struct{})
			srv, begun, serveErr := startForShutdown(t, s.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				enter()
				<-release
				fmt.Fprint(w, "finished")
			}))

			type result struct {
				status int
				body   string
				err    error
			}
			call := make(chan result, 1)
			client := newClient(t, s.client)
			go func() {
				status, body, err := get(client, srv.URL())
				call <- result{status, body, err}
			}()
			<-entered

			shutdownErr := make(chan error, 1)
			go func() { shutdownErr <- srv.Shutdown(context.Background()) }()
			<-begun

			// The listener is closed: a new connection is refused.
			if _, _, err := get(newClient(t, s.client), srv.URL()); err == nil {
				t.Error("a new connection was served during Shutdown")
			}
			// The handler has not returned, so neither can Shutdown or Serve.
			select {
			case err := <-shutdownErr:
				t.Fatalf("Shutdown returned (%v) while a call was in flight", err)
			case err := <-serveErr:
				t.Fatalf("Serve returned (%v) while a call was in flight", err)
			default:
			}

			close(release)
			r := <-call
			if r.err != nil || r.status != http.StatusOK || r.body != "finished" {
				t.Errorf("in-flight call got %d %q, %v", r.status, r.body, r.err)
			}
			if err := <-shutdownErr; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-serveErr; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
}

// TestShutdownWaitsForStream shuts down in the middle of a bidirectional
// stream: messages keep flowing both ways after Shutdown began, and the
// stream ends normally.
func TestShutdownWaitsForStream(t *testing.T) {
	t.Parallel()
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			srv, begun, serveErr := startForShutdown(t, s.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				if err := rc.EnableFullDuplex(); err != nil {
					t.Errorf("EnableFullDuplex: %v", err)
				}
				w.WriteHeader(http.StatusOK)
				if err := rc.Flush(); err != nil {
					t.Errorf("Flush: %v", err)
					return
				}
				in := bufio.NewScanner(r.Body)
				for in.Scan() {
					fmt.Fprintf(w, "echo %s\n", in.Text())
					if err := rc.Flush(); err != nil {
						t.Errorf("Flush: %v", err)
						return
					}
				}
				fmt.Fprint(w, "bye\n")
			}))

			pr, pw := io.Pipe()
			req, err := http.NewRequest(http.MethodPost, srv.URL()+"/stream", pr)
			if err != nil {
				t.Fatal(err)
			}
			res, err := newClient(t, s.client).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			out := bufio.NewReader(res.Body)
			exchange := func(msg string) {
				t.Helper()
				if _, err := fmt.Fprintln(pw, msg); err != nil {
					t.Fatal(err)
				}
				line, err := out.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if want := "echo " + msg + "\n"; line != want {
					t.Fatalf("got %q, want %q", line, want)
				}
			}
			exchange("before shutdown")

			shutdownErr := make(chan error, 1)
			go func() { shutdownErr <- srv.Shutdown(context.Background()) }()
			<-begun

			exchange("during shutdown")
			select {
			case err := <-shutdownErr:
				t.Fatalf("Shutdown returned (%v) while a stream was open", err)
			default:
			}
			exchange("still during shutdown")
			pw.Close()
			rest, err := io.ReadAll(out)
			if err != nil || string(rest) != "bye\n" {
				t.Errorf("end of stream: %q, %v", rest, err)
			}
			if err := <-shutdownErr; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-serveErr; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
}

// TestShutdownContextEnds has a handler that never finishes on its own:
// when Shutdown's context ends, the handler's context is cancelled, the
// connections are closed and Shutdown reports the context's error.
func TestShutdownContextEnds(t *testing.T) {
	t.Parallel()
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			entered, enter := signalOnce()
			handlerErr := make(chan error, 1)
			srv, _, serveErr := startForShutdown(t, s.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				enter()
				<-r.Context().Done()
				handlerErr <- r.Context().Err()
			}))
			callDone := make(chan struct{})
			client := newClient(t, s.client)
			go func() {
				defer close(callDone)
				get(client, srv.URL()) // fails or gets an empty answer; it must return
			}()
			<-entered

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Shutdown = %v, want context.Canceled", err)
			}
			if err := <-handlerErr; !errors.Is(err, context.Canceled) {
				t.Errorf("handler context: %v", err)
			}
			<-callDone
			if err := <-serveErr; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
}

func TestCloseCancelsCalls(t *testing.T) {
	t.Parallel()
	entered, enter := signalOnce()
	handlerErr := make(chan error, 1)
	srv, _, serveErr := startForShutdown(t, transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		enter()
		<-r.Context().Done()
		handlerErr <- r.Context().Err()
	}))
	callErr := make(chan error, 1)
	client := newClient(t, transport.Config{Name: "h2c"})
	go func() {
		_, _, err := get(client, srv.URL())
		callErr <- err
	}()
	<-entered
	if err := srv.Close(); err != nil {
		t.Error(err)
	}
	if err := <-handlerErr; !errors.Is(err, context.Canceled) {
		t.Errorf("handler context: %v", err)
	}
	if err := <-callErr; err == nil {
		t.Error("call in flight during Close succeeded")
	}
	if err := <-serveErr; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	srv, err := nethttp.NewServer(transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}, http.HandlerFunc(protoHandler), nethttp.WithErrorLog(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != nil || srv.URL() != "" {
		t.Errorf("before Start: Addr %v, URL %q", srv.Addr(), srv.URL())
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err == nil {
		t.Error("second Start succeeded")
	}

	// Another server cannot bind the same address.
	taken, err := nethttp.NewServer(transport.Config{Name: "h2c", Addr: srv.Addr().String()}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	if err := taken.Start(); err == nil {
		taken.Close()
		t.Error("Start on a taken address succeeded")
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := srv.Serve(); err != nil {
		t.Errorf("Serve after Close = %v, want nil", err)
	}
	if err := srv.Start(); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Start after Close = %v, want http.ErrServerClosed", err)
	}

	never, err := nethttp.NewServer(transport.Config{Name: "h2c", Addr: "127.0.0.1:0"}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	if err := never.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown before Start: %v", err)
	}
	if err := never.Serve(); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve after Shutdown without Start = %v, want http.ErrServerClosed", err)
	}
}

package h3_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

// TestServerRequestBodyErrors checks what a handler reading the request
// body gets when the client cancels or its connection closes: a client's
// cancel used to reach rpc handlers as "read request: H3_REQUEST_CANCELLED",
// which rpc could only call invalid_argument.
func TestServerRequestBodyErrors(t *testing.T) {
	for _, fault := range []string{"client cancels", "client closes its connection"} {
		t.Run(fault, func(t *testing.T) {
			reading := make(chan struct{})
			got := make(chan error, 1)
			srv := startServer(t, serverConfig(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				buf := make([]byte, 1)
				if _, err := io.ReadFull(r.Body, buf); err != nil {
					got <- err
					return
				}
				close(reading)
				_, err := io.ReadAll(r.Body)
				got <- err
			}))
			c := newClient(t, clientConfig(t))
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
			// Bounds only turn a hang into a failure: the handler hears of
			// the fault over loopback.
			select {
			case <-reading:
			case <-time.After(20 * time.Second):
				t.Fatal("the handler did not read")
			}
			if fault == "client cancels" {
				cancel()
			} else {
				c.Close()
			}
			var err error
			select {
			case err = <-got:
			case <-time.After(20 * time.Second):
				t.Fatal("the handler's read did not fail")
			}
			pw.CloseWithError(errors.New("abandoned"))
			<-done
			var reset *transport.StreamResetError
			switch fault {
			case "client cancels":
				if !errors.As(err, &reset) || !reset.HTTP3 || reset.Code != transport.HTTP3RequestCancelled || !reset.Remote {
					t.Fatalf("%v (%T): want an H3_REQUEST_CANCELLED reset from the client", err, err)
				}
			default:
				if !errors.Is(err, transport.ErrConnectionLost) {
					t.Fatalf("%v (%T): want a lost connection", err, err)
				}
			}
		})
	}
}

// TestResponseBodyAfterCancel checks that once a call's context is done,
// its response body reads fail with the context's error, as on net/http's
// transports, even when the whole response has already arrived: a client
// whose deadline had passed read the server's answer to the reset its
// deadline caused, and reported it.
func TestResponseBodyAfterCancel(t *testing.T) {
	srv := startServer(t, serverConfig(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "the whole response")
	}))
	c := newClient(t, clientConfig(t))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL(), nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	cancel()
	if _, err := io.ReadAll(res.Body); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v, want context.Canceled", err)
	}
}

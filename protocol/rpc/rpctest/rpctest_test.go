package rpctest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"polyconnect.dev/protocol/rpc/rpctest"
)

// echo answers with the protocol it saw and the request body.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Proto", r.Proto)
	fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, body)
}

type namedClient struct {
	name       string
	client     func(*rpctest.Server) *http.Client
	protoMajor int
}

var clients = []namedClient{
	{"HTTP/1.1", (*rpctest.Server).Client, 1},
	{"h2c", (*rpctest.Server).HTTP2Client, 2},
}

func TestEcho(t *testing.T) {
	t.Parallel()
	srv := rpctest.NewServer(t, http.HandlerFunc(echo))
	if !strings.HasPrefix(srv.URL(), "http://") {
		t.Fatalf("URL = %q", srv.URL())
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.client(srv).Post(srv.URL()+"/greet.v1.GreetService/Greet", "text/plain", strings.NewReader("hello"))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.ProtoMajor != c.protoMajor || res.Header.Get("X-Proto") != res.Proto {
				t.Errorf("client saw %s, handler saw %s, want major version %d", res.Proto, res.Header.Get("X-Proto"), c.protoMajor)
			}
			if want := "POST /greet.v1.GreetService/Greet hello"; string(body) != want {
				t.Errorf("body = %q, want %q", body, want)
			}
		})
	}
}

func TestSameClientEachCall(t *testing.T) {
	t.Parallel()
	srv := rpctest.NewServer(t, http.HandlerFunc(echo))
	h1a, h1b := srv.Client(), srv.Client()
	h2a, h2b := srv.HTTP2Client(), srv.HTTP2Client()
	if h1a != h1b || h2a != h2b || h1a == h2a {
		t.Error("Client and HTTP2Client should each return one client")
	}
}

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	srv := rpctest.NewServer(t, http.HandlerFunc(echo))
	const perClient = 50
	var wg sync.WaitGroup
	errs := make(chan error, perClient*len(clients))
	for _, c := range clients {
		client := c.client(srv)
		for i := range perClient {
			wg.Go(func() {
				// Some bodies are larger than a pipe buffer, for back-pressure.
				repeat := 100
				if i%10 == 0 {
					repeat = 30000
				}
				payload := strings.Repeat(fmt.Sprintf("%s-%d;", c.name, i), repeat)
				res, err := client.Post(srv.URL()+"/p", "text/plain", strings.NewReader(payload))
				if err != nil {
					errs <- err
					return
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				if err != nil {
					errs <- err
					return
				}
				if string(body) != "POST /p "+payload {
					errs <- fmt.Errorf("%s request %d: wrong body (%d bytes)", c.name, i, len(body))
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestFullDuplex has the handler answer each line of the request body
// before the next one is sent: the client only sends line i+1 after it has
// read the answer to line i, so this works only if both directions flow at
// once.
func TestFullDuplex(t *testing.T) {
	t.Parallel()
	srv := rpctest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
			return
		}
		w.WriteHeader(http.StatusOK)
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
			return
		}
		lines := bufio.NewScanner(r.Body)
		for lines.Scan() {
			fmt.Fprintf(w, "echo %s\n", lines.Text())
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
				return
			}
		}
		if err := lines.Err(); err != nil {
			t.Errorf("reading request: %v", err)
		}
	}))
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+"/bidi", pr)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.client(srv).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.ProtoMajor != c.protoMajor {
				t.Errorf("proto = %s", res.Proto)
			}
			answers := bufio.NewReader(res.Body)
			for i := range 20 {
				if _, err := fmt.Fprintf(pw, "message %d\n", i); err != nil {
					t.Fatal(err)
				}
				line, err := answers.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("echo message %d\n", i); line != want {
					t.Fatalf("answer = %q, want %q", line, want)
				}
			}
			pw.Close()
			if rest, err := io.ReadAll(answers); err != nil || len(rest) != 0 {
				t.Errorf("after the last message: %q, %v", rest, err)
			}
		})
	}
}

func TestCloseCancelsHandlersAndIsIdempotent(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	handlerErr := make(chan error, 1)
	srv := rpctest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		handlerErr <- r.Context().Err()
	}))
	callErr := make(chan error, 1)
	go func() {
		res, err := srv.HTTP2Client().Get(srv.URL() + "/block")
		if err == nil {
			res.Body.Close()
		}
		callErr <- err
	}()
	<-entered
	srv.Close()
	if err := <-handlerErr; !errors.Is(err, context.Canceled) {
		t.Errorf("handler context: %v, want canceled", err)
	}
	if err := <-callErr; err == nil {
		t.Error("call in flight during Close succeeded")
	}
	srv.Close() // again: no panic, no hang

	if res, err := srv.Client().Get(srv.URL() + "/after"); err == nil {
		res.Body.Close()
		t.Error("request after Close succeeded")
	}
}

func TestClosedByCleanup(t *testing.T) {
	t.Parallel()
	var srv *rpctest.Server
	t.Run("inner", func(t *testing.T) {
		srv = rpctest.NewServer(t, http.HandlerFunc(echo))
		res, err := srv.Client().Get(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	})
	for _, c := range clients {
		if res, err := c.client(srv).Get(srv.URL()); err == nil {
			res.Body.Close()
			t.Errorf("%s: request after the test's cleanup succeeded", c.name)
		}
	}
}

func TestForeignHost(t *testing.T) {
	t.Parallel()
	srv := rpctest.NewServer(t, http.HandlerFunc(echo))
	other := rpctest.NewServer(t, http.HandlerFunc(echo))
	_, err := srv.Client().Get(other.URL())
	if err == nil || !strings.Contains(err.Error(), "can only reach its own server") {
		t.Errorf("request to another server's URL: %v", err)
	}
}

// A test starts the server with its *testing.T, which closes the server when
// the test ends, and calls it over HTTP/2 (or HTTP/1.1 with Client).
func ExampleNewServer() {
	testGreet := func(t *testing.T) {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
			name, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "Hello, %s!", name)
		})
		srv := rpctest.NewServer(t, mux)

		res, err := srv.HTTP2Client().Post(srv.URL()+"/greet", "text/plain", strings.NewReader("Gopher"))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if string(body) != "Hello, Gopher!" {
			t.Errorf("got %q", body)
		}
	}
	_ = testGreet // run by "go test" as func TestGreet(t *testing.T)
}

func BenchmarkUnary(b *testing.B) {
	srv := rpctest.NewServer(b, http.HandlerFunc(echo))
	payload := strings.Repeat("x", 1024)
	for _, c := range clients {
		b.Run(c.name, func(b *testing.B) {
			client := c.client(srv)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Post(srv.URL()+"/bench", "text/plain", strings.NewReader(payload))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		})
	}
}

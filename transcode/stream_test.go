package transcode_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/transcode"
	transcodetestv1 "polyconnect.dev/transcode/internal/gen/transcodetest/v1"
	"polyconnect.dev/transcode/internal/gen/transcodetest/v1/transcodetestv1rpc"
)

func TestServerStream(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	cases := []struct {
		name   string
		query  string
		status int
		lines  []string
	}{
		{"three messages", "count=3", 200, []string{
			`{"result":{"name":"shelves/s/books/0"`, `{"result":{"name":"shelves/s/books/1"`, `{"result":{"name":"shelves/s/books/2"`,
		}},
		{"no messages", "count=0", 200, nil},
		{"error after two", "count=2&fail_code=10", 200, []string{
			`{"result":{"name":"shelves/s/books/0"`, `{"result":{"name":"shelves/s/books/1"`,
			`{"error":{"code":10,"message":"stream failed as asked","details":[]}}`,
		}},
		{"error before any", "count=0&fail_code=5", 404, []string{
			`{"error":{"code":5,"message":"stream failed as asked","details":[]}}`,
		}},
		{"bad query", "count=x", 400, []string{`{"error":{"code":3,`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := do(mux, "GET", "/v1/shelves/s/books:stream?"+c.query, "", "")
			if w.Code != c.status {
				t.Errorf("status %d, want %d", w.Code, c.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" && len(c.lines) > 0 {
				t.Errorf("Content-Type %q", ct)
			}
			body := w.Body.String()
			var lines []string
			if body != "" {
				if !strings.HasSuffix(body, "\n") {
					t.Errorf("body does not end with a newline: %q", body)
				}
				lines = strings.Split(strings.TrimSuffix(body, "\n"), "\n")
			}
			if len(lines) != len(c.lines) {
				t.Fatalf("%d lines, want %d: %q", len(lines), len(c.lines), body)
			}
			for i, want := range c.lines {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("line %d: %s, want prefix %s", i, lines[i], want)
				}
			}
		})
	}
}

// slowStream sends one message, then waits for the test's go-ahead before the
// next: the client must see the first before the handler finishes.
type slowStream struct {
	library
	next chan struct{}
}

func (s slowStream) StreamBooks(ctx context.Context, req *transcodetestv1.StreamBooksRequest, stream *rpc.ServerStream[transcodetestv1.Book]) error {
	for i := range req.Count {
		if i > 0 {
			select {
			case <-s.next:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := stream.Send(&transcodetestv1.Book{Name: fmt.Sprint(i)}); err != nil {
			return err
		}
	}
	return nil
}

// TestServerStreamFlushes checks over a real connection that each message
// reaches the client as it is sent, not when the stream ends.
func TestServerStreamFlushes(t *testing.T) {
	t.Parallel()
	next := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(slowStream{next: next}))
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{librarySD})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", rest)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // generous: the machine is shared
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/shelves/s/books:stream?count=3", nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)
	for i := range 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if want := fmt.Sprintf(`{"result":{"name":"%d"`, i); !strings.HasPrefix(line, want) {
			t.Fatalf("line %d: %s", i, line)
		}
		if i < 2 {
			next <- struct{}{} // only once the line arrived: it was flushed
		}
	}
	if rest, _ := io.ReadAll(r); len(rest) != 0 {
		t.Errorf("after the last message: %q", rest)
	}
}

// TestRawServerStream checks a google.api.HttpBody stream over a real
// connection: the chunks' bytes one after the other with the first one's
// content type, the handler's headers, and its trailers as HTTP trailers.
func TestRawServerStream(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	res, err := srv.Client().Get(srv.URL + "/v1/chunks/a/b.txt?chunk_size=3&chunks=4")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || string(body) != "aaabbbcccddd" || res.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("status %d, Content-Type %q, body %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if res.Header.Get("X-Path") != "a/b.txt" || res.Trailer.Get("X-Chunks") != "4" {
		t.Errorf("header X-Path %q, trailer X-Chunks %q", res.Header.Get("X-Path"), res.Trailer.Get("X-Chunks"))
	}
}

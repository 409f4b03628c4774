package transcode_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchCases are the REST calls of the benchmarks: a GET, the POST of the
// REST rows in bench/rest_test.go, and a GET with query parameters.
var benchCases = []struct{ name, method, target, body string }{
	{"GET", "GET", "/v1/shelves/s1/books/b1", ""},
	{"POST", "POST", "/v1/shelves/s1/books?book_id=b1", `{"title":"The Left Hand of Darkness","author":"Ursula K. Le Guin","pageCount":"304","tags":["sf","classic"]}`},
	{"Query", "GET", "/v1/shelves/s1/books?page_size=1&tags=a&tags=b&filter.author=x", ""},
}

// BenchmarkTranscode measures the transcoder in process: a REST request
// through the mux, the transcoder and the RPC handler to the test service and
// back, with no network. allocs/op counts the transcoder, the RPC handler and
// the test's own request and recorder (about 10 of them) together; most of
// the rest is protobuf's (reflection, the in-process call's proto encoding).
func BenchmarkTranscode(b *testing.B) {
	mux, _ := newLibrary(b, nil)
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var r *http.Request
				if c.body != "" {
					r = httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
				} else {
					r = httptest.NewRequest(c.method, c.target, nil)
				}
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkServeHTTP measures the transcoder's server side alone: the
// request, its body reader and the response writer are made once and reused,
// so allocs/op counts only the mux, the transcoder and the RPC handler (with
// the test service) for one REST call. The POST is the REST rows' call in
// bench/rest_test.go.
func BenchmarkServeHTTP(b *testing.B) {
	mux, _ := newLibrary(b, nil)
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			src := strings.NewReader(c.body)
			r := httptest.NewRequest(c.method, c.target, nil)
			if c.body != "" {
				r.Body = io.NopCloser(src)
				r.ContentLength = int64(len(c.body))
				r.Header.Set("Content-Type", "application/json")
			}
			w := &discardWriter{header: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(c.body)
				clear(w.header)
				w.code, w.n = 0, 0
				mux.ServeHTTP(w, r)
				if w.code != http.StatusOK || w.n == 0 {
					b.Fatalf("status %d, %d bytes", w.code, w.n)
				}
			}
		})
	}
}

// discardWriter is a reusable http.ResponseWriter that keeps the status and
// counts the body.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

package transcode_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkTranscode measures the transcoder in process: a REST request
// through the mux, the transcoder and the RPC handler to the test service and
// back, with no network. allocs/op counts the transcoder, the RPC handler and
// the test's own request and recorder (about 10 of them) together; most of
// the rest is protojson's and proto's.
func BenchmarkTranscode(b *testing.B) {
	mux, _ := newLibrary(b, nil)
	const body = `{"title":"The Left Hand of Darkness","author":"Ursula K. Le Guin","pageCount":"304","tags":["sf","classic"]}`
	cases := []struct{ name, method, target, body string }{
		{"GET", "GET", "/v1/shelves/s1/books/b1", ""},
		{"POST", "POST", "/v1/shelves/s1/books?book_id=b1", body},
		{"Query", "GET", "/v1/shelves/s1/books?page_size=1&tags=a&tags=b&filter.author=x", ""},
	}
	for _, c := range cases {
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

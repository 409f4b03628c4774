package transcode_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzServeHTTP sends arbitrary REST requests (method, path, query, body,
// content encoding) through the transcoder to the test service: no panic,
// and every error is a google.rpc.Status JSON document (or, for a stream,
// an {"error": ...} line) with an error status.
func FuzzServeHTTP(f *testing.F) {
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "SEARCH", "HEAD", "OPTIONS"}
	for _, s := range []struct {
		m                 uint8
		path, query, body string
		gzip              bool
	}{
		{0, "/v1/shelves/s/books/b", "", "", false},
		{1, "/v1/shelves/s/books", "book_id=x", `{"title":"t"}`, false},
		{3, "/v1/shelves/s/books/b", "update_mask=title", `{"title":"t","labels":{"a":"b"}}`, false},
		{1, "/v1/echo", "", `{"int64Value":"1","any":{"@type":"type.googleapis.com/google.protobuf.Empty"}}`, false},
		{0, "/v1/echo", "timestamp=x&m[=1&%zz", "", false},
		{0, "/v1/shelves/s/books:stream", "count=3&fail_code=3", "", false},
		{1, "/v1/files/a/b:upload", "", "\x00\xff", false},
		{1, "/v1/echo:values", "", "[1,", false},
		{1, "/v1/echo", "", "\x1f\x8b\x08", true},
		{5, "/v1/books:search", "", `{"genres":["X"]}`, false},
		{1, "/v1/books:batchCreate", "", `{"book":{"title":"a"}} {"book":`, false},
		{1, "/v1/books:echo", "", `{"title":"a"}{"title":"fail"}`, false},
		{1, "/v1/chunks", "", "raw\x00bytes", true},
	} {
		f.Add(s.m, s.path, s.query, s.body, s.gzip)
	}
	mux, _ := newLibrary(f, nil)
	f.Fuzz(func(t *testing.T, m uint8, path, query, body string, gzip bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		u := &url.URL{Path: path, RawQuery: query}
		target := u.RequestURI()
		if _, err := url.ParseRequestURI(target); err != nil || strings.ContainsAny(target, " \t\r\n") {
			return // net/http would refuse the request line before any handler
		}
		r := httptest.NewRequest(methods[int(m)%len(methods)], "http://example"+target, strings.NewReader(body))
		if gzip {
			r.Header.Set("Content-Encoding", "gzip")
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code < 400 {
			return
		}
		out := strings.TrimSpace(w.Body.String())
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%s %s: status %d with a body that is not JSON: %q", r.Method, target, w.Code, out)
		}
		if e, ok := doc["error"].(map[string]any); ok {
			doc = e
		}
		if _, ok := doc["code"].(float64); !ok {
			t.Fatalf("%s %s: status %d without a code: %s", r.Method, target, w.Code, out)
		}
	})
}

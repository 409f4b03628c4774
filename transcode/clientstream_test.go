package transcode_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"polyconnect.dev/transcode"
)

func TestClientStream(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	cases := []struct {
		name, body string
		status     int
		want       string
		contains   string
	}{
		{"newline-delimited", "{\"parent\":\"shelves/a\",\"bookId\":\"1\",\"book\":{\"title\":\"A\"}}\n{\"parent\":\"shelves/b\",\"bookId\":\"2\",\"book\":{\"title\":\"B\"}}\n", 200, "", `"count":2`},
		{"values one after the other", `{"book":{"title":"A"}}{"book":{"title":"B"}} {"book":{"title":"C"}}`, 200, "", `"count":3`},
		{"empty body", "", 200, `{"books":[],"count":0}`, ""},
		{"the handler refuses a message", `{"book":{"title":"A"}} {"book":{}}`, 400, `{"code":3,"message":"a book needs a title","details":[]}`, ""},
		{"malformed second message", `{"book":{"title":"A"}} {"book":`, 400, "", `"code":3`},
		{"wrong type", `{"book":{"title":1}}`, 400, "", `message1:`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := do(mux, "POST", "/v1/books:batchCreate", "application/x-ndjson", c.body)
			if w.Code != c.status {
				t.Errorf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.want != "" && !jsonEqual(t, w.Body.String(), c.want) {
				t.Errorf("body %s, want %s", w.Body, c.want)
			}
			if c.contains != "" && !strings.Contains(strings.ReplaceAll(w.Body.String(), " ", ""), c.contains) {
				t.Errorf("body %s lacks %s", w.Body, c.contains)
			}
		})
	}
}

func TestClientStreamLimitAndGzip(t *testing.T) {
	t.Parallel()
	const limit = 4096
	mux, _ := newLibrary(t, nil, transcode.WithReadMaxBytes(limit))
	var b strings.Builder
	for b.Len() < limit-40 {
		b.WriteString(`{"book":{"title":"T"}}` + "\n")
	}
	if w := do(mux, "POST", "/v1/books:batchCreate", "", b.String()); w.Code != 200 {
		t.Errorf("stream under the limit: status %d: %s", w.Code, w.Body)
	}
	for b.Len() <= limit {
		b.WriteString(`{"book":{"title":"T"}}` + "\n")
	}
	if w := do(mux, "POST", "/v1/books:batchCreate", "", b.String()); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("stream over the limit: status %d: %s", w.Code, w.Body)
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(`{"book":{"title":"A"}} {"book":{"title":"B"}}`))
	_ = zw.Close()
	r := httptest.NewRequest("POST", "/v1/books:batchCreate", &zipped)
	r.Header.Set("Content-Encoding", "gzip")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"count":2`) {
		t.Errorf("gzip stream: status %d: %s", w.Code, w.Body)
	}
}

func TestRawClientStream(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160,000 bytes: three chunks of 64 KiB
	w := do(mux, "POST", "/v1/chunks", "application/octet-stream", string(data))
	if w.Code != 200 || !jsonEqual(t, w.Body.String(), `{"size":"160000","chunks":3,"contentType":"application/octet-stream"}`) {
		t.Errorf("status %d: %s", w.Code, w.Body)
	}
	if w := do(mux, "POST", "/v1/chunks", "", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"chunks":0`) {
		t.Errorf("empty upload: status %d: %s", w.Code, w.Body)
	}
}

func TestBidiStream(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	w := do(mux, "POST", "/v1/books:echo", "", `{"title":"a"} {"title":"b"}`)
	want := "{\"result\":{\"name\":\"\",\"title\":\"A\"," + emptyBook[strings.Index(emptyBook, `"author"`):] + "}}\n" +
		"{\"result\":{\"name\":\"\",\"title\":\"B\"," + emptyBook[strings.Index(emptyBook, `"author"`):] + "}}"
	lines := strings.Split(strings.TrimSuffix(w.Body.String(), "\n"), "\n")
	wantLines := strings.Split(want, "\n")
	if w.Code != 200 || len(lines) != 2 {
		t.Fatalf("status %d: %q", w.Code, w.Body)
	}
	for i := range lines {
		if !jsonEqual(t, lines[i], wantLines[i]) {
			t.Errorf("line %d: %s, want %s", i, lines[i], wantLines[i])
		}
	}
	w = do(mux, "POST", "/v1/books:echo", "", `{"title":"a"} {"title":"fail"}`)
	lines = strings.Split(strings.TrimSuffix(w.Body.String(), "\n"), "\n")
	if w.Code != 200 || len(lines) != 2 || !strings.HasPrefix(lines[1], `{"error":{"code":9,`) {
		t.Errorf("failing stream: status %d: %q", w.Code, w.Body)
	}
	w = do(mux, "POST", "/v1/books:echo", "", `{"title":"a"} {"title":`)
	lines = strings.Split(strings.TrimSuffix(w.Body.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], `{"error":{"code":3,`) {
		t.Errorf("malformed second message: status %d: %q", w.Code, w.Body)
	}
}

// TestBidiStreamOverHTTP runs a bidi call over a real HTTP/1.1 connection
// with many messages: the body is decoded while responses are written.
func TestBidiStreamOverHTTP(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var body strings.Builder
	const n = 2000
	for i := range n {
		fmt.Fprintf(&body, "{\"title\":\"t%d\"}\n", i)
	}
	res, err := srv.Client().Post(srv.URL+"/v1/books:echo", "application/x-ndjson", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got bytes.Buffer
	_, _ = got.ReadFrom(res.Body)
	if lines := strings.Count(got.String(), "\n"); res.StatusCode != 200 || lines != n || !strings.Contains(got.String(), `"title":"T1999"`) {
		t.Errorf("status %d, %d lines", res.StatusCode, lines)
	}
}

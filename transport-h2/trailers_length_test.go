package h2

import (
	"net/http"
	"testing"
)

// A response the handler wrote whole says how long it is, unless trailers
// follow: then it ends with them, and a gRPC client would only file the
// length as metadata (grpc-go's allocates for it on every call).
func TestContentLengthWithTrailers(t *testing.T) {
	const body = "a response body"
	cases := []struct {
		name  string
		write func(w http.ResponseWriter)
		want  int64 // the response's ContentLength
	}{
		{"no trailers", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(body))
		}, int64(len(body))},
		{"declared trailer", func(w http.ResponseWriter) {
			w.Header().Set("Trailer", "Grpc-Status")
			_, _ = w.Write([]byte(body))
			w.Header().Set("Grpc-Status", "0")
		}, -1},
		{"prefixed trailer", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(body))
			w.Header().Set(http.TrailerPrefix+"Grpc-Status", "0")
		}, -1},
	}
	for _, name := range names {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.write(w) })
				srv, c := pair(t, name, h)
				resp, got := do(t, c, newRequest(t, "POST", srv.URL()+"/", nil))
				if got != body {
					t.Errorf("body %q, want %q", got, body)
				}
				if resp.ContentLength != tc.want {
					t.Errorf("ContentLength %d, want %d", resp.ContentLength, tc.want)
				}
				if tc.want >= 0 {
					return
				}
				if v, ok := resp.Header["Content-Length"]; ok {
					t.Errorf("Content-Length header %q with trailers", v)
				}
				if s := resp.Trailer.Get("Grpc-Status"); s != "0" {
					t.Errorf("trailer Grpc-Status %q, want 0 (trailers %v)", s, resp.Trailer)
				}
			})
		}
	}
}

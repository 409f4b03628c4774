package h2

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

func BenchmarkTmpUnary(b *testing.B) {
	for _, mode := range []string{"plain", "trailers", "cl-trailers", "unknownlen"} {
		b.Run(mode, func(b *testing.B) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				buf := make([]byte, 200)
				n, _ := io.ReadFull(r.Body, buf[:105])
				io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/grpc")
				if mode == "cl-trailers" {
					w.Header().Set("Content-Length", "105")
				}
				w.WriteHeader(200)
				w.Write(buf[:n])
				if mode != "plain" && mode != "unknownlen" {
					w.Header().Set(http.TrailerPrefix+"Grpc-Status", "0")
				}
			})
			srv, c := pair(b, NameH2C, h)
			payload := make([]byte, 105)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest("POST", srv.URL()+"/x", bytes.NewReader(payload))
				if mode == "unknownlen" || mode == "trailers" {
					req.ContentLength = -1
				}
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

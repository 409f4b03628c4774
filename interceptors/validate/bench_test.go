package validate_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	"polyconnect.dev/interceptors/validate"
	validatetestv1 "polyconnect.dev/interceptors/validate/internal/gen/validatetest/v1"
	"polyconnect.dev/interceptors/validate/internal/gen/validatetest/v1/validatetestv1rpc"
	"polyconnect.dev/protocol/rpc"
)

// recorder is a reusable http.ResponseWriter.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }

// BenchmarkHandler measures what validation adds to a unary call on a
// handler, in process: compare "validate" with "none".
//
//	go test -run '^$' -bench . -benchmem .
func BenchmarkHandler(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []rpc.HandlerOption
	}{
		{"none", nil},
		{"validate", []rpc.HandlerOption{rpc.WithHandlerInterceptors(validate.New())}},
		{"validate+responses", []rpc.HandlerOption{rpc.WithHandlerInterceptors(validate.New(validate.WithResponses()))}},
	} {
		b.Run(c.name, func(b *testing.B) {
			_, h := validatetestv1rpc.NewTestServiceHandler(&service{}, c.opts...)
			payload, err := proto.Marshal(&validatetestv1.Request{Name: "Ada", Count: 3})
			if err != nil {
				b.Fatal(err)
			}
			body := bytes.NewReader(payload)
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
				"http://bench"+validatetestv1rpc.TestServiceUnaryProcedure, io.NopCloser(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/proto")
			req.ContentLength = int64(len(payload))
			w := &recorder{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				body.Reset(payload)
				clear(w.h)
				w.body.Reset()
				w.status = 0
				h.ServeHTTP(w, req)
			}
			if w.status != 0 && w.status != http.StatusOK {
				b.Fatalf("status %d: %s", w.status, w.body.String())
			}
		})
	}
}

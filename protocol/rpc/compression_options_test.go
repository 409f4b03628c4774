package rpc_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/compress/snappy"
	"polyconnect.dev/protocol/rpc"
)

// headerRecorder wraps a handler and keeps the last request's headers and
// the response's encoding (Content-Encoding for Connect, Grpc-Encoding for
// gRPC and gRPC-Web).
type headerRecorder struct {
	next http.Handler
	mu   sync.Mutex
	req  http.Header
	enc  string
}

func (h *headerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.next.ServeHTTP(w, r)
	h.mu.Lock()
	h.req = r.Header.Clone()
	h.enc = w.Header().Get("Content-Encoding") + w.Header().Get("Grpc-Encoding")
	h.mu.Unlock()
}

func (h *headerRecorder) last() (http.Header, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.req, h.enc
}

// This test binary imports every compress/… package, so the default set
// holds all five algorithms; the options below must override it.
func TestClientCompressionOptionsSetTheExactSet(t *testing.T) {
	rec := &headerRecorder{next: echoMux()}
	srv, h2 := newH2CServer(t, rec)
	ctx := context.Background()
	cases := []struct {
		name string
		opts []rpc.ClientOption
		want string
	}{
		{"default", nil, "gzip,"},
		{"exact gzip", []rpc.ClientOption{rpc.WithCompressions(rpc.GzipCompression())}, "gzip,identity"},
		{"identity only", []rpc.ClientOption{rpc.WithCompressions()}, "identity"},
		{"without gzip", []rpc.ClientOption{rpc.WithoutCompression("gzip")}, ""},
		{"exact then add", []rpc.ClientOption{rpc.WithCompressions(), rpc.WithCompression(snappy.Compression())}, "snappy,identity"},
		{"exact then remove", []rpc.ClientOption{rpc.WithCompressions(rpc.GzipCompression(), snappy.Compression()), rpc.WithoutCompression("gzip")}, "snappy,identity"},
	}
	for _, c := range cases {
		client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, c.opts...)
		if _, err := client.CallUnary(ctx, wrapperspb.String("x")); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		h, _ := rec.last()
		got := h.Get("Accept-Encoding")
		switch {
		case c.name == "default":
			for _, n := range []string{"gzip", "br", "zstd", "deflate", "snappy"} {
				if !strings.Contains(got, n) {
					t.Errorf("default Accept-Encoding %q lacks registered %q", got, n)
				}
			}
		case c.name == "without gzip":
			if strings.Contains(got, "gzip") || !strings.Contains(got, "zstd") {
				t.Errorf("%s: Accept-Encoding %q", c.name, got)
			}
		case got != c.want:
			t.Errorf("%s: Accept-Encoding %q, want %q", c.name, got, c.want)
		}
	}
	// Removing the send compression is a configuration error.
	client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithoutCompression("gzip"), rpc.WithSendCompression("gzip"))
	if _, err := client.CallUnary(ctx, wrapperspb.String("x")); rpc.CodeOf(err) != rpc.CodeInternal {
		t.Errorf("send compression removed from the set: %v", err)
	}
}

func TestHandlerWithoutGzip(t *testing.T) {
	rec := &headerRecorder{next: echoMux(rpc.WithoutCompression("gzip"), rpc.WithCompressMinBytes(0))}
	srv, h2 := newH2CServer(t, rec)
	ctx := context.Background()
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		// A gzip request is refused with the code the protocols use for an
		// unsupported compression.
		gz := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithProtocol(p), rpc.WithSendCompression("gzip"))
		if _, err := gz.CallUnary(ctx, wrapperspb.String("x")); rpc.CodeOf(err) != rpc.CodeUnimplemented {
			t.Errorf("%v: gzip request to a handler without gzip: %v", p, err)
		}
		// A client that accepts only gzip gets an uncompressed answer.
		plain := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithProtocol(p), rpc.WithCompressions(rpc.GzipCompression()))
		if _, err := plain.CallUnary(ctx, wrapperspb.String(strings.Repeat("x", 4096))); err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if _, enc := rec.last(); enc != "" && enc != "identity" {
			t.Errorf("%v: handler without gzip answered with Content-Encoding %q", p, enc)
		}
	}
}

func TestRegisterCompressionRefusesDuplicatesAndReservedNames(t *testing.T) {
	for name, c := range map[string]rpc.Compression{
		"gzip twice":   rpc.GzipCompression(),
		"snappy twice": snappy.Compression(),
		"nil":          nil,
		"identity":     namedCompression{rpc.GzipCompression(), "identity"},
		"empty":        namedCompression{rpc.GzipCompression(), ""},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: RegisterCompression did not panic", name)
				}
			}()
			rpc.RegisterCompression(c)
		}()
	}
}

type namedCompression struct {
	rpc.Compression
	name string
}

func (n namedCompression) Name() string { return n.name }

package rpc_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/compress/brotli"
	"polyconnect.dev/protocol/compress/deflate"
	"polyconnect.dev/protocol/compress/snappy"
	"polyconnect.dev/protocol/compress/zstd"
	"polyconnect.dev/protocol/rpc"
)

func allCompressions() []rpc.Compression {
	return []rpc.Compression{rpc.GzipCompression(), brotli.Compression(), zstd.Compression(), deflate.Compression(), snappy.Compression()}
}

func TestCompressionsEndToEnd(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	for _, c := range allCompressions() {
		t.Run(c.Name(), func(t *testing.T) {
			testEcho(t, h2, srv.URL, true, rpc.WithSendCompression(c.Name()))
		})
	}
}

// TestCompressionRoundTripLarge checks that each algorithm reproduces a
// large, compressible message exactly, through the pools, repeatedly.
func TestCompressionRoundTripLarge(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	big := strings.Repeat("polyconnect ", 100_000)
	for _, c := range allCompressions() {
		client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithSendCompression(c.Name()))
		for range 3 {
			res, err := client.CallUnary(context.Background(), wrapperspb.String(big))
			if err != nil {
				t.Fatalf("%s: %v", c.Name(), err)
			}
			if res.Value != big {
				t.Fatalf("%s: response differs", c.Name())
			}
		}
	}
}

// TestDecompressionBomb sends a tiny compressed body that expands far past
// the handler's read limit: the handler must answer resource_exhausted
// without materialising the expansion.
func TestDecompressionBomb(t *testing.T) {
	const limit = 1 << 20
	srv, _ := newH2CServer(t, echoMux(rpc.WithReadMaxBytes(limit)))
	payload, err := proto.Marshal(wrapperspb.String(strings.Repeat("\x00", 16<<20)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range allCompressions() {
		t.Run(c.Name(), func(t *testing.T) {
			var body bytes.Buffer
			w := c.NewCompressor(&body)
			if _, err := w.Write(payload); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if body.Len() > limit {
				t.Fatalf("%s does not compress 16 MiB of zeros below the 1 MiB limit (%d bytes): the test would not exercise decompression", c.Name(), body.Len())
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+specUnary.Procedure, bytes.NewReader(body.Bytes()))
			req.Header.Set("Content-Type", "application/proto")
			req.Header.Set("Content-Encoding", c.Name())
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(b), `"resource_exhausted"`) {
				t.Fatalf("status %d body %s", res.StatusCode, b)
			}
		})
	}
}

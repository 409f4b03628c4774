package brotli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/compress/brotli"
	"polyconnect.dev/protocol/rpc"
)

// The compressor and decompressor round-trip data and can be reused through
// Reset, as the rpc pools do.
func TestRoundTripAndReuse(t *testing.T) {
	c := brotli.Compression()
	if c.Name() != brotli.Name {
		t.Fatalf("name %q", c.Name())
	}
	var compressed bytes.Buffer
	w := c.NewCompressor(&compressed)
	var r rpc.Decompressor
	for i, input := range []string{"", "a", strings.Repeat("polyconnect ", 10_000), "\x00\xff\x10"} {
		compressed.Reset()
		w.Reset(&compressed)
		if _, err := w.Write([]byte(input)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var err error
		if i == 0 {
			r, err = c.NewDecompressor(bytes.NewReader(compressed.Bytes()))
		} else {
			err = r.Reset(bytes.NewReader(compressed.Bytes()))
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		if string(got) != input {
			t.Fatalf("input %d: got %d bytes, want %d", i, len(got), len(input))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Importing the package registers the algorithm: a client can send with it
// and a handler accepts it, with no other option.
func Example() {
	spec := rpc.Spec{Procedure: "/example.v1.Echo/Echo"}
	echo := func(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		return wrapperspb.String(req.Value + " via " + info.RequestHeader().Get("Content-Encoding")), nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, echo))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec,
		rpc.WithSendCompression(brotli.Name))
	res, err := client.CallUnary(context.Background(), wrapperspb.String("hello"))
	fmt.Println(res.GetValue(), err)
	// Output: hello via br <nil>
}

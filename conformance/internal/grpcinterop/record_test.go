package grpcinterop

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"slices"
	"testing"
	"testing/iotest"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

func envelope(flags byte, payload []byte) []byte {
	b := []byte{flags, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

func TestEnvelopeRecorder(t *testing.T) {
	var body []byte
	body = append(body, envelope(0x01, bytes.Repeat([]byte{'x'}, 300))...)
	body = append(body, envelope(0x00, nil)...)
	body = append(body, envelope(0x00, []byte("abc"))...)
	body = append(body, envelope(0x80, []byte("grpc-status: 0\r\n"))...) // gRPC-Web trailers
	body = append(body, envelope(0x02, []byte("{}"))...)                 // Connect end of stream
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	} {
		t.Run(name, func(t *testing.T) {
			rec := &responseRecorder{}
			r := &envelopeRecorder{ReadCloser: io.NopCloser(wrap(bytes.NewReader(body))), rec: rec}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Fatal("the recorder changed the body")
			}
			if want := []bool{true, false, false}; !slices.Equal(rec.messages(), want) {
				t.Errorf("recorded %v, want %v", rec.messages(), want)
			}
		})
	}
}

// TestRecorderOnTheWire checks the recorder on real responses: a gzip
// request gets a gzip response, a plain gRPC one a plain response, and our
// server passes server_compressed_unary, choosing compression per call.
func TestRecorderOnTheWire(t *testing.T) {
	srv := rpctest.NewServer(t, NewHandler(&Server{}))
	for _, proto := range []rpc.Protocol{rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb, rpc.ProtocolConnect} {
		t.Run(proto.String(), func(t *testing.T) {
			ctx := context.Background()
			c := NewClient(srv.HTTP2Client(), srv.URL(), rpc.WithProtocol(proto))
			for _, compressed := range []bool{true, false} {
				client := c.test
				if compressed {
					client = c.gzip
				}
				c.seen.reset()
				if err := largeUnary(ctx, client, nil); err != nil {
					t.Fatal(err)
				}
				want := compressed
				if proto == rpc.ProtocolConnect {
					// Connect handlers compress unary responses for any
					// client that accepts gzip, which ours does.
					want = true
				}
				if got := c.seen.messages(); !slices.Equal(got, []bool{want}) {
					t.Errorf("request compressed %t: recorded %v, want [%t]", compressed, got, want)
				}
			}
			if err := ServerCompressedUnary(ctx, c); err != nil {
				t.Errorf("ServerCompressedUnary: %v", err)
			}
			if err := ServerCompressedStreaming(ctx, c); err != nil {
				t.Errorf("ServerCompressedStreaming: %v", err)
			}
		})
	}
}

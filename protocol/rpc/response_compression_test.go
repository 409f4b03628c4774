package rpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

func TestSetResponseCompressionUnary(t *testing.T) {
	spec := rpc.Spec{Procedure: "/test.v1.Compress/Unary"}
	h := rpc.NewUnaryHandler(spec, func(ctx context.Context, req *sv) (*sv, error) {
		if err := rpc.SetResponseCompression(ctx, req.Value); err != nil {
			return nil, rpc.NewError(rpc.CodeFailedPrecondition, err.Error())
		}
		return wrapperspb.String(req.Value), nil // a few bytes: below the default threshold
	})
	srv, h2 := newH2CServer(t, h)
	for _, c := range []struct {
		name, accept, wantEncoding string
		wantCode                   rpc.Code
	}{
		{"gzip", "gzip, br", "gzip", 0},
		{"identity", "gzip", "", 0},
		{"br", "gzip", "", rpc.CodeFailedPrecondition},   // not accepted by the client
		{"lz77", "lz77", "", rpc.CodeFailedPrecondition}, // unknown to the handler
	} {
		body, _ := protoMarshal(wrapperspb.String(c.name))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+spec.Procedure, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/proto")
		req.Header.Set("Accept-Encoding", c.accept)
		res, err := h2.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if c.wantCode != 0 {
			if res.StatusCode != c.wantCode.HTTPStatus() {
				t.Errorf("%s: status %d", c.name, res.StatusCode)
			}
			continue
		}
		if got := res.Header.Get("Content-Encoding"); res.StatusCode != 200 || got != c.wantEncoding {
			t.Errorf("%s: status %d, Content-Encoding %q, want %q", c.name, res.StatusCode, got, c.wantEncoding)
		}
	}
	// Through our client the compressed answer decodes as usual.
	res, err := rpc.NewClient[sv, sv](h2, srv.URL, spec).CallUnary(context.Background(), wrapperspb.String("gzip"))
	if err != nil || res.Value != "gzip" {
		t.Fatal(res, err)
	}
}

// On a stream the algorithm is fixed with the headers, but each message may
// still be sent compressed or not.
func TestSetResponseCompressionPerMessage(t *testing.T) {
	spec := rpc.Spec{Procedure: "/test.v1.Compress/Stream", StreamType: rpc.StreamTypeServer}
	var lateErr error
	h := rpc.NewServerStreamHandler(spec, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		if err := rpc.SetResponseCompression(ctx, "gzip"); err != nil {
			return err
		}
		if err := s.Send(wrapperspb.String("compressed")); err != nil {
			return err
		}
		lateErr = rpc.SetResponseCompression(ctx, "br") // headers said gzip
		if err := rpc.SetResponseCompression(ctx, "identity"); err != nil {
			return err
		}
		return s.Send(wrapperspb.String("plain"))
	})
	srv, h2 := newH2CServer(t, h)
	body, _ := protoMarshal(wrapperspb.String("go"))
	frame := append([]byte{0, 0, 0, 0, 0}, body...)
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(body)))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+spec.Procedure, bytes.NewReader(frame))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Grpc-Accept-Encoding", "gzip")
	req.Header.Set("Te", "trailers")
	res, err := h2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Grpc-Encoding") != "gzip" || res.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("headers %v trailers %v", res.Header, res.Trailer)
	}
	var flags []byte
	for len(data) >= 5 {
		n := binary.BigEndian.Uint32(data[1:5])
		flags = append(flags, data[0])
		data = data[5+n:]
	}
	if !bytes.Equal(flags, []byte{1, 0}) {
		t.Fatalf("message flags %v, want [1 0]", flags)
	}
	if lateErr == nil {
		t.Fatal("switching to another algorithm after the headers succeeded")
	}
	if err := rpc.SetResponseCompression(context.Background(), "gzip"); err == nil {
		t.Fatal("SetResponseCompression succeeded without a call")
	}
}

func protoMarshal(m *sv) ([]byte, error) { return rpc.ProtoCodec().MarshalAppend(nil, m) }

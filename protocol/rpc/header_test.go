package rpc_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"polyconnect.dev/protocol/rpc"
)

func TestBinaryHeaders(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0xfb, 0xff}, []byte("hello, world"), bytes.Repeat([]byte{0xfe}, 31)} {
		enc := rpc.EncodeBinaryHeader(b)
		for _, form := range []string{enc, base64.StdEncoding.EncodeToString(b), base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)} {
			got, err := rpc.DecodeBinaryHeader(form)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("%q: got %v %v, want %v", form, got, err, b)
			}
		}
	}
	if _, err := rpc.DecodeBinaryHeader("!!not base64"); err == nil {
		t.Fatal("accepted invalid base64")
	}
}

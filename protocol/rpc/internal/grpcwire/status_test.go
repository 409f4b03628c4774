package grpcwire

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// codeResourceExhausted is google.rpc.Code RESOURCE_EXHAUSTED.
const codeResourceExhausted = 8

func TestStatusProto(t *testing.T) {
	// Hand-checked encoding: code 5, message "x", no details.
	if got := AppendStatusProto(nil, 5, "x", nil); !bytes.Equal(got, []byte{0x08, 0x05, 0x12, 0x01, 'x'}) {
		t.Fatalf("encoding % x", got)
	}
	d1, _ := anypb.New(wrapperspb.String("detail"))
	d2, _ := anypb.New(durationpb.New(3 * time.Second))
	empty := &anypb.Any{}
	b := AppendStatusProto(nil, codeResourceExhausted, "too much", []*anypb.Any{d1, d2, empty})
	code, msg, details, err := ParseStatusProto(b)
	if err != nil || code != codeResourceExhausted || msg != "too much" || len(details) != 3 {
		t.Fatalf("parse: %v %v %q %v", err, code, msg, details)
	}
	for i, want := range []*anypb.Any{d1, d2, empty} {
		if !proto.Equal(details[i], want) {
			t.Errorf("detail %d = %v, want %v", i, details[i], want)
		}
	}
	// Each detail is a plain google.protobuf.Any on the wire.
	first, _ := proto.Marshal(d1)
	if !bytes.Contains(b, first) {
		t.Error("detail bytes differ from proto.Marshal of the Any")
	}
	// Unknown fields are skipped; garbage is an error, never a panic.
	withUnknown := append(append([]byte{}, b...), 0x20, 0x01, 0x2a, 0x00)
	if c, _, _, err := ParseStatusProto(withUnknown); err != nil || c != codeResourceExhausted {
		t.Errorf("unknown fields: %v %v", c, err)
	}
	for _, bad := range [][]byte{{0x08}, {0x12, 0x05, 'a'}, {0x1a, 0x02, 0xff, 0xff}, {0xff}} {
		if _, _, _, err := ParseStatusProto(bad); err != ErrBadStatusProto {
			t.Errorf("parse(% x): %v", bad, err)
		}
	}
}

func TestStatusProtoNegativeCode(t *testing.T) {
	// The code is an int32 on the wire: a code above MaxInt32 is written
	// as a negative varint of ten bytes and read back the same.
	b := AppendStatusProto(nil, 1<<31, "", nil)
	if len(b) != 11 {
		t.Fatalf("encoding % x: %d bytes, want 11", b, len(b))
	}
	if code, _, _, err := ParseStatusProto(b); err != nil || code != 1<<31 {
		t.Fatalf("parse: %d %v", code, err)
	}
}

func TestStatusFields(t *testing.T) {
	h := http.Header{
		HeaderStatus:  {"5", "6"},
		HeaderMessage: {"", "second"},
		HeaderDetails: {"CAU", "x"},
	}
	f := StatusFieldsOf(h)
	if f != (StatusFields{Status: "5", StatusCount: 2, Message: "", HasMessage: true, Details: "CAU"}) {
		t.Fatalf("StatusFieldsOf = %+v", f)
	}
	if (StatusFieldsOf(http.Header{}) != StatusFields{}) {
		t.Fatal("fields in an empty header")
	}
	for status, want := range map[string]uint32{"0": 0, " 7 ": 7, "16": 16, "4294967295": 1<<32 - 1} {
		if code, ok := (StatusFields{Status: status, StatusCount: 1}).Code(); !ok || code != want {
			t.Errorf("Code(%q) = %d, %v; want %d", status, code, ok, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "+1", "1.0", "4294967296", "01", "00"} {
		if code, ok := (StatusFields{Status: bad, StatusCount: 1}).Code(); ok {
			t.Errorf("Code(%q) = %d, accepted", bad, code)
		}
	}
	// One entry is expected: none or two is no code.
	if _, ok := (StatusFields{Status: "0", StatusCount: 2}).Code(); ok {
		t.Error("two grpc-status entries accepted")
	}
	if _, ok := (StatusFields{Status: "0"}).Code(); ok {
		t.Error("no grpc-status entry accepted")
	}
}

func TestSetStatus(t *testing.T) {
	status := []string{"3"}
	h := make(http.Header)
	SetStatus(h, status, "bad%20arg", "CAM", false)
	if len(h) != 3 || &h[HeaderStatus][0] != &status[0] || h.Get(HeaderMessage) != "bad%20arg" || h.Get(HeaderDetails) != "CAM" {
		t.Errorf("headers: %v", h)
	}
	if f := StatusFieldsOf(h); f.Status != "3" || f.Message != "bad%20arg" || f.Details != "CAM" {
		t.Errorf("read back: %+v", f)
	}
	h = make(http.Header)
	SetStatus(h, []string{"0"}, "", "", true)
	if len(h) != 1 || h[http.TrailerPrefix+HeaderStatus][0] != "0" {
		t.Errorf("OK trailers: %v", h)
	}
	h = make(http.Header)
	SetStatus(h, status, "m", "d", true)
	if len(h) != 3 || h[http.TrailerPrefix+HeaderMessage][0] != "m" || h[http.TrailerPrefix+HeaderDetails][0] != "d" {
		t.Errorf("trailers: %v", h)
	}
}

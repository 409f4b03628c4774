package rpc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc/internal/grpcwire"
)

func TestGRPCTimeoutEncode(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{1, "1n"},
		{99_999_999, "99999999n"},
		{100_000_000, "100000u"},
		{100_000_001, "100001u"}, // rounded up
		{time.Second, "1000000u"},
		{99_999_999 * time.Microsecond, "99999999u"},
		{100 * time.Second, "100000m"},
		{99_999_999 * time.Millisecond, "99999999m"},
		{100_000 * time.Second, "100000S"},
		{30 * 24 * time.Hour, "2592000S"},
		{5 * 365 * 24 * time.Hour, "2628000M"},
		{time.Duration(math.MaxInt64), "2562048H"},
	}
	for _, c := range cases {
		got := grpcwire.EncodeTimeout(c.d)
		if got != c.want {
			t.Errorf("encode(%v) = %q, want %q", c.d, got, c.want)
		}
		if len(got) > 9 {
			t.Errorf("encode(%v) = %q has more than 8 digits", c.d, got)
		}
		back, ok := grpcwire.ParseTimeout(got)
		if !ok || back < c.d && back != math.MaxInt64 {
			t.Errorf("parse(%q) = %v, %v: earlier than %v", got, back, ok, c.d)
		}
	}
}

func TestGRPCTimeoutParse(t *testing.T) {
	good := map[string]time.Duration{
		"1n":        1,
		"7u":        7 * time.Microsecond,
		"250m":      250 * time.Millisecond,
		"3S":        3 * time.Second,
		"2M":        2 * time.Minute,
		"1H":        time.Hour,
		"0n":        0,
		"00000010S": 10 * time.Second,
		"99999999H": math.MaxInt64, // beyond time.Duration: no deadline
		"99999999M": 99_999_999 * time.Minute,
		"99999999S": 99_999_999 * time.Second,
	}
	for in, want := range good {
		if got, ok := grpcwire.ParseTimeout(in); !ok || got != want {
			t.Errorf("parse(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "S", "1", "1s", "1h", "-1S", "+1S", "1.5S", " 1S", "123456789S", "1x", "１S"} {
		if got, ok := grpcwire.ParseTimeout(in); ok {
			t.Errorf("parse(%q) = %v, want an error", in, got)
		}
	}
}

func TestGRPCPercentEncoding(t *testing.T) {
	cases := map[string]string{
		"":                "",
		"plain message":   "plain message",
		"100%":            "100%25",
		"café":            "caf%C3%A9",
		"line\nbreak\x7f": "line%0Abreak%7F",
		"~ ok":            "~ ok",
		"\x00":            "%00",
	}
	for in, want := range cases {
		if got := grpcwire.PercentEncode(in); got != want {
			t.Errorf("encode(%q) = %q, want %q", in, got, want)
		}
		if back := grpcwire.PercentDecode(want); back != in {
			t.Errorf("decode(%q) = %q, want %q", want, back, in)
		}
	}
	// Broken escapes are kept, never an error.
	for in, want := range map[string]string{"%": "%", "%4": "%4", "%zz!": "%zz!", "a%4g": "a%4g", "%41%": "A%", "%e2%9c%93": "✓"} {
		if got := grpcwire.PercentDecode(in); got != want {
			t.Errorf("decode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGRPCStatusHeaders(t *testing.T) {
	e := NewError(CodeNotFound, "no such thing: ünïcode 100%")
	_ = e.AddDetail(wrapperspb.String("d"))
	h := make(http.Header)
	setGRPCStatus(h, e, false)
	back, found := grpcStatusFromHeader(h)
	if !found || back.Code() != CodeNotFound || back.Message() != e.Message() || len(back.Details()) != 1 || !proto.Equal(back.Details()[0], e.Details()[0]) {
		t.Fatalf("round trip: %v %v", back, found)
	}
	if strings.ContainsAny(h.Get(grpcwire.HeaderDetails), "=") {
		t.Errorf("details header is padded: %q", h.Get(grpcwire.HeaderDetails))
	}
	// Padded details are accepted too.
	h[grpcwire.HeaderDetails] = []string{base64.StdEncoding.EncodeToString(grpcwire.AppendStatusProto(nil, uint32(CodeNotFound), "from proto", nil))}
	delete(h, grpcwire.HeaderMessage)
	if back, _ := grpcStatusFromHeader(h); back.Message() != "from proto" {
		t.Errorf("message from details: %q", back.Message())
	}
	// OK, and a zero code that must never read as OK.
	h = make(http.Header)
	setGRPCStatus(h, nil, true)
	if h[http.TrailerPrefix+grpcwire.HeaderStatus][0] != "0" {
		t.Errorf("OK trailers %v", h)
	}
	h = make(http.Header)
	setGRPCStatus(h, NewError(0, "zero"), false)
	if h.Get(grpcwire.HeaderStatus) != "2" {
		t.Errorf("zero code sent as %q", h.Get(grpcwire.HeaderStatus))
	}
	if _, found := grpcStatusFromHeader(http.Header{}); found {
		t.Error("status found in empty header")
	}
	if e, _ := grpcStatusFromHeader(http.Header{grpcwire.HeaderStatus: {"0"}}); e != nil {
		t.Errorf("OK status: %v", e)
	}
	for _, bad := range []string{"", "x", "-1", "1.0", "4294967296", "01"} {
		if e, found := grpcStatusFromHeader(http.Header{grpcwire.HeaderStatus: {bad}}); !found || e.Code() != CodeInternal {
			t.Errorf("status %q: %v", bad, e)
		}
	}
}

// The decoding itself is tested in grpcwire (TestTextReader); here, what
// each side makes of a broken body.
func TestBase64StreamReader(t *testing.T) {
	enc := grpcwire.AppendWebText(grpcwire.AppendWebText(nil, []byte("a")), bytes.Repeat([]byte{0xfe}, 10_000))
	got, err := io.ReadAll(iotest.OneByteReader(newBase64StreamReader(iotest.HalfReader(bytes.NewReader(enc)), true)))
	if err != nil || len(got) != 10_001 || got[0] != 'a' || got[10_000] != 0xfe {
		t.Errorf("decoded %d bytes: %v", len(got), err)
	}
	for _, bad := range []string{"Q", "QUJDQ", "QQ=A", "Q===", "!!!!", "QUJD Q", "QQ==Q"} {
		_, err := io.ReadAll(newBase64StreamReader(strings.NewReader(bad), true))
		var e *Error
		if !errors.As(err, &e) || e.Code() != CodeInvalidArgument || e.Message() != "protocol error: invalid base64 in gRPC-Web text body" {
			t.Errorf("%q: %v", bad, err)
		}
		_, err = io.ReadAll(newBase64StreamReader(strings.NewReader(bad), false))
		if !errors.As(err, &e) || e.Code() != CodeInternal || e.Message() != "protocol error: invalid base64 in gRPC-Web text body" {
			t.Errorf("%q, client: %v", bad, err)
		}
	}
	// A read error from below is passed on.
	boom := errors.New("boom")
	if _, err := io.ReadAll(newBase64StreamReader(iotest.ErrReader(boom), true)); !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
}

func TestGRPCWebTrailersFrame(t *testing.T) {
	var buf buffer
	e := NewError(CodeAborted, "stop\nnow")
	e.Meta().Set("X-From-Error", "1")
	e.Meta().Set("Content-Type", "not/allowed")
	trailer := http.Header{"X-Multi": {"a", "b"}, "Grpc-Status": {"0"}}
	appendGRPCWebTrailers(&buf, e, trailer)
	b := buf.Bytes()
	if b[0] != flagGRPCWebTrail || int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]) != len(b)-5 {
		t.Fatalf("frame prefix % x, %d payload bytes", b[:5], len(b)-5)
	}
	block := string(b[5:])
	for _, line := range []string{"grpc-status: 10\r\n", "grpc-message: stop%0Anow\r\n", "x-multi: a\r\nx-multi: b\r\n", "x-from-error: 1\r\n"} {
		if !strings.Contains(block, line) {
			t.Errorf("block lacks %q:\n%s", line, block)
		}
	}
	if strings.Contains(block, "content-type") || strings.Count(block, "grpc-status") != 1 {
		t.Errorf("protocol headers leaked:\n%s", block)
	}
	f, h, perr := parseGRPCWebTrailers(b[5:])
	if perr != nil {
		t.Fatal(perr)
	}
	back, found := grpcStatusError(f)
	if !found || back.Code() != CodeAborted || back.Message() != "stop\nnow" || len(h["X-Multi"]) != 2 || h.Get("Grpc-Status") != "" {
		t.Errorf("parsed %v: %v", h, back)
	}
	// Lenient about line endings, blank lines and case, strict about colons.
	f, h, err := parseGRPCWebTrailers([]byte("a: 1\nb:2\r\nGRPC-Status: 0\r\n\r\n"))
	if e, found := grpcStatusError(f); err != nil || h.Get("A") != "1" || h.Get("B") != "2" || e != nil || !found {
		t.Errorf("lenient parse: %v %v %v", h, err, e)
	}
	// A bare OK status allocates no header.
	if f, h, err := parseGRPCWebTrailers([]byte("grpc-status: 0\r\n")); h != nil || err != nil || f.Status != "0" {
		t.Errorf("bare status: %+v %v %v", f, h, err)
	}
	// Two statuses are a protocol error.
	if f, _, _ := parseGRPCWebTrailers([]byte("grpc-status: 0\r\ngrpc-status: 0\r\n")); f.StatusCount != 2 {
		t.Errorf("two statuses: %+v", f)
	} else if e, _ := grpcStatusError(f); e == nil || e.Code() != CodeInternal {
		t.Errorf("two statuses: %v", e)
	}
	for _, bad := range []string{"nocolon\r\n", ": novalue\r\n", "  : x\r\n"} {
		if _, _, err := parseGRPCWebTrailers([]byte(bad)); err == nil || err.Code() != CodeInternal {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, _, err := parseGRPCWebTrailers([]byte("bad name: x\r\n")); err == nil || err.Message() != `protocol error: invalid gRPC-Web trailer line "bad name: x"` {
		t.Errorf("message: %v", err)
	}
}

func TestParseGRPCContentType(t *testing.T) {
	cases := []struct {
		ct      string
		variant grpcwire.Variant
		codec   string
		ok      bool
	}{
		{"application/grpc", grpcwire.Plain, "proto", true},
		{"application/grpc+proto", grpcwire.Plain, "proto", true},
		{"application/grpc+json; charset=utf-8", grpcwire.Plain, "json", true},
		{"Application/GRPC+JSON", grpcwire.Plain, "json", true},
		{"application/grpc-web", grpcwire.WebBinary, "proto", true},
		{"application/grpc-web+thrift", grpcwire.WebBinary, "thrift", true},
		{"application/grpc-web-text", grpcwire.WebText, "proto", true},
		{"application/grpc-web-text+proto", grpcwire.WebText, "proto", true},
		{"application/grpc+", 0, "", false},
		{"application/grpcx", 0, "", false},
		{"application/grpc-webx", 0, "", false},
		{"application/proto", 0, "", false},
		{"", 0, "", false},
	}
	for _, c := range cases {
		v, codec, ok := grpcwire.ParseContentType(c.ct)
		if v != c.variant || codec != c.codec || ok != c.ok {
			t.Errorf("%q: %v %q %v", c.ct, v, codec, ok)
		}
	}
}

package grpcwire

import (
	"math"
	"testing"
	"time"
)

func TestContentTypeRoundTrip(t *testing.T) {
	for _, v := range []Variant{Plain, WebBinary, WebText} {
		for _, codec := range []string{"proto", "json"} {
			got, gotCodec, ok := ParseContentType(v.Prefix() + "+" + codec)
			if !ok || got != v || gotCodec != codec {
				t.Errorf("ParseContentType(%q) = %v, %q, %v", v.Prefix()+"+"+codec, got, gotCodec, ok)
			}
		}
		if got, codec, ok := ParseContentType(v.Prefix() + "; charset=utf-8"); !ok || got != v || codec != "proto" {
			t.Errorf("ParseContentType(%q with parameters) = %v, %q, %v", v.Prefix(), got, codec, ok)
		}
	}
	for _, ct := range []string{"", "application/json", "application/grpc+", "application/grpcx", "application/grpc-webby"} {
		if _, _, ok := ParseContentType(ct); ok {
			t.Errorf("ParseContentType(%q) accepted", ct)
		}
	}
}

func TestTimeoutRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{1, 999, time.Millisecond + 1, time.Second, 99_999_999 * time.Nanosecond, 100_000_000 * time.Nanosecond, 90 * time.Minute, math.MaxInt64} {
		s := EncodeTimeout(d)
		got, ok := ParseTimeout(s)
		if !ok {
			t.Fatalf("ParseTimeout(EncodeTimeout(%v) = %q) failed", d, s)
		}
		// Rounded up to the unit, never down: the server's deadline is never
		// earlier than the client's.
		if got < d {
			t.Errorf("EncodeTimeout(%v) = %q, parsed back as %v: earlier", d, s, got)
		}
	}
	for _, s := range []string{"", "1", "m", "123456789m", "1x", "-1S", "1 S"} {
		if _, ok := ParseTimeout(s); ok {
			t.Errorf("ParseTimeout(%q) accepted", s)
		}
	}
}

func TestPercentRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "100% sure", " edges ", "naïve\n\ttabs", "%zz"} {
		enc := PercentEncode(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c < 0x20 || c > 0x7e {
				t.Errorf("PercentEncode(%q) = %q: byte %#x not printable ASCII", s, enc, c)
			}
		}
		if dec := PercentDecode(enc); dec != s {
			t.Errorf("PercentDecode(PercentEncode(%q)) = %q", s, dec)
		}
	}
	if got := PercentDecode("bad %zz escape %4"); got != "bad %zz escape %4" {
		t.Errorf("malformed escapes changed: %q", got)
	}
}

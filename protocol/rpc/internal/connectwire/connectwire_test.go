package connectwire

import (
	"encoding/json"
	"testing"
)

func TestCodecName(t *testing.T) {
	for _, tc := range []struct{ ct, prefix, want string }{
		{"application/proto", UnaryPrefix, "proto"},
		{"application/JSON; charset=utf-8", UnaryPrefix, "json"},
		{"application/connect+proto", StreamPrefix, "proto"},
		{"application/connect+json;charset=utf-8", StreamPrefix, "json"},
	} {
		if got := CodecName(tc.ct, tc.prefix); got != tc.want {
			t.Errorf("CodecName(%q, %q) = %q, want %q", tc.ct, tc.prefix, got, tc.want)
		}
	}
}

func TestEndStreamJSON(t *testing.T) {
	end := EndStream{
		Error:    &Error{Code: "not_found", Message: "no such shelf", Details: []Detail{{Type: "google.rpc.ErrorInfo", Value: "CgE"}}},
		Metadata: map[string][]string{"Shelf-Count": {"3"}},
	}
	b, err := json.Marshal(end)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"error":{"code":"not_found","message":"no such shelf","details":[{"type":"google.rpc.ErrorInfo","value":"CgE"}]},"metadata":{"Shelf-Count":["3"]}}`
	if string(b) != want {
		t.Fatalf("end of stream = %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(EndStream{})
	if string(b) != "{}" {
		t.Fatalf("a successful end of stream = %s, want {}", b)
	}
}
